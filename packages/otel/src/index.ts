export type { GaugeSources } from './observed-gauges.js';
export { ATTR, METRIC, SCOPE } from './semantic.js';
export { AgentrixTelemetry, createTelemetry } from './telemetry.js';
export type { TelemetryOptions } from './telemetry-options.js';
export { contextOf, toCarrier } from './trace-context.js';
export type { TracedBus } from './traced-bus.js';
export type { JobLike } from './traced-jobs.js';
