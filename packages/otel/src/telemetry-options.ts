import type { Logger } from '@agentrix/core';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

export interface TelemetryOptions {
  /** Where spans go. Default: the global provider (`trace.getTracerProvider()`): a no-op until the host's SDK registers one. */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /**
   * Record prompts, completions and tool arguments on spans (`gen_ai.input.messages`,
   * `gen_ai.output.messages`, `gen_ai.tool.call.arguments`), redacted of secrets (URL
   * credentials, keys, `secrets`) and bounded. Default false: no content leaves the process.
   */
  recordContent?: boolean;
  /** Longest string attribute value, in characters; longer ones are cut with a marker. Default 1024. */
  maxAttributeLength?: number;
  /** Host secrets removed from recorded content and error messages (with URL credentials and key-shaped strings). */
  secrets?: readonly string[];
  /** Where a failure inside the instrumentation is reported (once per kind); the turn never sees it. Default: silent. */
  logger?: Logger;
  /** The clock of envelope timestamps, for queue time. Default `Date.now`. */
  now?: () => number;
}
