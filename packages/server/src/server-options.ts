import type { Logger } from '@agentrix/core';
import type { Hq } from '@agentrix/hq';
import type { Agentrix } from '@agentrix/runtime';
import type { JobQueue, Scheduler } from '@agentrix/scheduler';

/** What a token may do: `read` < `operate` < `admin` (a scope allows the ones below it). */
export type Scope = 'read' | 'operate' | 'admin';

export interface ServerToken {
  /** The bearer token (at least 16 characters). Compared in constant time; never logged or echoed. */
  token: string;
  scope: Scope;
  /** Who holds it, for logs (`by` of approvals). */
  name?: string;
}

export interface CreateServerOptions {
  /** The runtime the API operates (`createAgentrix`). */
  agentrix: Agentrix;
  /** Serves `/api/hq/*`; its queue and scheduler are listed with the others. */
  hq?: Hq;
  /** Job queues for `/api/queues/*`. */
  queues?: readonly JobQueue[];
  /** Schedulers for `/api/schedules`. */
  schedulers?: readonly Scheduler[];
  /**
   * Bearer tokens. Required to listen on anything but loopback. None given (loopback only): every
   * request is allowed as `admin`.
   */
  tokens?: readonly ServerToken[];
  /** A directory of static files (the console's `consoleAssetsDir`) served at `/`. */
  console?: string;
  /** CORS: off unless given. */
  cors?: { origin: string | readonly string[] };
  /** Largest request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Live events kept for `Last-Event-ID` resumes. Default 10,000. */
  eventBufferSize?: number;
  /** Events queued for one SSE subscriber before it is cut as too slow. Default 5,000. */
  maxQueuedEvents?: number;
  /** Interval of the SSE keep-alive comment. Default 15,000 ms. */
  heartbeatMs?: number;
  /** Host secrets removed from every error message (API keys, passwords); URL credentials and key-shaped strings always are. */
  secrets?: readonly string[];
  /** Where failed requests (system errors) are logged, pino's argument order. Default: silent. */
  logger?: Logger;
}
