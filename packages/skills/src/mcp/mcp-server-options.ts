import type { RetryPolicy } from '@agentrix/core';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CostTier } from '../skill.js';

/** What every server config may set. */
export interface McpServerCommonOptions {
  /** Unique server name: 1-32 letters, digits, `_` or `-`. Also the default tool prefix. */
  name: string;
  /** Tools are registered as `<prefix>__<tool>`. Default: `name`. */
  prefix?: string;
  /** Abort a tool call after this long (the server gets `notifications/cancelled`). Default 60 s. */
  callTimeoutMs?: number;
  /** Give up connecting (initialize) after this long. Default 30 s. */
  connectTimeoutMs?: number;
  /**
   * Reconnecting after the server dies: exponential backoff with jitter. Default: unlimited
   * attempts from 500 ms, capped at 30 s. `attempts: 0` turns reconnecting off.
   */
  reconnect?: Partial<RetryPolicy>;
  /**
   * How long a call made while the server is reconnecting waits for it (never longer than the
   * call's timeout) before failing with `TOOL_FAILED`. The wait keeps a host process alive; the
   * reconnect loop alone does not. Default 10 s; 0 fails such calls at once.
   */
  reconnectWaitMs?: number;
  /** Tool results longer than this are cut, with a marker. Default 50 000 characters. */
  maxResultChars?: number;
  /** Register only these tools (original names). Default: all. */
  include?: readonly string[];
  /** Never register these tools (original names). */
  exclude?: readonly string[];
  /** Cost tier of the server's skills. Default `'med'`. */
  costTier?: CostTier;
  /** Whether calls may run in parallel. Default: tools annotated `readOnlyHint: true`. */
  canParallel?: boolean | ((tool: string) => boolean);
  /** Tools (original names) that need the host's approval, or `true` for all. Default: none. */
  requiresApproval?: boolean | readonly string[];
  /** Added to every skill of the server (besides `mcp` and `mcp:<name>`). */
  tags?: readonly string[];
}

/** A server started as a child process, spoken to over its stdin/stdout. */
export interface McpStdioServerOptions extends McpServerCommonOptions {
  transport: 'stdio';
  command: string;
  args?: readonly string[];
  /** Added to the SDK's safe default environment (PATH, HOME, ...). */
  env?: Record<string, string>;
  cwd?: string;
  /** Characters of stderr kept for error messages. Default 4 096. */
  stderrTailChars?: number;
}

/** A server reached over HTTP: `streamable-http` (current) or `sse` (deprecated HTTP+SSE). */
export interface McpHttpServerOptions extends McpServerCommonOptions {
  transport: 'streamable-http' | 'sse';
  url: string | URL;
  headers?: Record<string, string>;
  /** OAuth for servers that require authorization (the SDK's provider interface). */
  authProvider?: OAuthClientProvider;
  /**
   * For OAuth's authorization-code flow: after the provider redirected the user, resolves with
   * the code from the callback; the manager then finishes the flow and connects again.
   */
  authorizationCode?: () => Promise<string>;
  /** A fetch to use instead of the global one (proxies, auth middleware, tests). */
  fetch?: FetchLike;
}

export type McpServerOptions = McpStdioServerOptions | McpHttpServerOptions;

/** How long a call waits for a reconnecting server by default. */
export const DEFAULT_RECONNECT_WAIT_MS = 10_000;

/** Default of `callTimeoutMs`. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

export const SERVER_NAME = /^[A-Za-z0-9_-]{1,32}$/;
