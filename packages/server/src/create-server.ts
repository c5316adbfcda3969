import { AgentrixError, type Logger, silentLogger } from '@agentrix/core';
import type { JobQueue, Scheduler } from '@agentrix/scheduler';
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import { bearerToken, type Principal, TokenCheck } from './auth.js';
import { EventHub } from './event-hub.js';
import { errorResponse, notFound } from './http-error.js';
import { type ListeningServer, listen } from './listen.js';
import { openApiDocument } from './openapi.js';
import { RecentEvents } from './recent-events.js';
import { checkDeclaredLength, queryObject, readJson, validate } from './request-body.js';
import type { RouteDefinition } from './route.js';
import { agentRoutes } from './routes/agents.js';
import { approvalRoutes } from './routes/approvals.js';
import { eventRoutes } from './routes/events.js';
import { gatewayRoutes } from './routes/gateway.js';
import { healthRoutes } from './routes/health.js';
import { hqRoutes } from './routes/hq.js';
import { jobRoutes } from './routes/jobs.js';
import { skillRoutes } from './routes/skills.js';
import type { ServerContext } from './server-context.js';
import type { CreateServerOptions } from './server-options.js';
import { staticFiles } from './static-files.js';

export interface ListenOptions {
  /** Default 4111; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. Anything but loopback needs `tokens`. */
  host?: string;
}

/** The control plane of one Agentrix: a Hono app, its Web-standard `fetch`, and a Node listener. */
export interface AgentrixServer extends AsyncDisposable {
  /** The Hono app: mount it in another Hono app with `host.route('/ops', server.app)`. */
  readonly app: Hono;
  /** The Web-standard handler (paths start at `/`): the seam for any host framework. */
  fetch(request: Request): Promise<Response>;
  /** The route table (the OpenAPI document is built from it). */
  readonly routes: readonly RouteDefinition[];
  /** Listens on Node's HTTP server. `INVALID_ARGUMENT` for a non-loopback host without tokens, or a port in use. */
  listen(options?: ListenOptions): Promise<{ url: string; host: string; port: number }>;
  /** Ends the SSE streams, stops listening, detaches from the event stream. Leaves the agentrix open. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1_048_576;
// At 10k events/s a late timer on a busy machine hands the stream bursts of 1,000-2,000 events
// in one turn of the event loop (bench/server, load 17 on 2 cores): a subscriber may hold 5,000
// (about 0.5 s, ~0.5 MB of frames) before it is cut, and the ring keeps 10,000 (about 1 s), so a
// cut subscriber that reconnects at once resumes without a gap.
const DEFAULT_EVENT_BUFFER = 10_000;
const DEFAULT_MAX_QUEUED_EVENTS = 5_000;
const ANYONE: Principal = { scope: 'admin', name: undefined };

/** Builds the HTTP API (and the console, when given) over one agentrix. See API.md for the routes. */
export function createServer(options: CreateServerOptions): AgentrixServer {
  if (typeof options?.agentrix?.list !== 'function' || typeof options.agentrix.events?.tap !== 'function') {
    throw new AgentrixError('INVALID_ARGUMENT', 'createServer needs { agentrix }: the result of createAgentrix(...)');
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new AgentrixError('INVALID_ARGUMENT', `maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  }
  const tokens = new TokenCheck(options.tokens);
  const logger: Logger = options.logger ?? silentLogger;
  const secrets = [...(options.secrets ?? []), ...(options.tokens ?? []).map((entry) => entry.token)];
  const hub = new EventHub(options.agentrix.events, {
    bufferSize: positive(options.eventBufferSize ?? DEFAULT_EVENT_BUFFER, 'eventBufferSize'),
    maxQueuedEvents: positive(options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS, 'maxQueuedEvents'),
    heartbeatMs: positive(options.heartbeatMs ?? 15_000, 'heartbeatMs'),
    secrets,
  });
  const queues = new Map<string, JobQueue>();
  for (const queue of [...(options.hq ? [options.hq.queue] : []), ...(options.queues ?? [])]) {
    queues.set(queue.queue, queue);
  }
  const schedulers: Scheduler[] = [...(options.hq ? [options.hq.scheduler] : []), ...(options.schedulers ?? [])];
  const context: ServerContext = {
    agentrix: options.agentrix,
    hq: options.hq,
    queues,
    schedulers,
    hub,
    recent: new RecentEvents(hub),
    secrets,
  };
  const routes: RouteDefinition[] = [
    ...healthRoutes(context),
    ...agentRoutes(context),
    ...eventRoutes(context),
    ...gatewayRoutes(context),
    ...jobRoutes(context),
    ...approvalRoutes(context),
    ...hqRoutes(context),
    ...skillRoutes(context),
  ];
  const openapi = openApiDocument(routes, { title: 'Agentrix control API', version: '0.1.0' });

  const handle = async (definition: RouteDefinition, c: Context): Promise<Response> => {
    const request = c.req.raw;
    try {
      const url = new URL(request.url);
      const presented =
        bearerToken(request.headers.get('authorization')) ??
        (definition.path === '/api/events' ? (url.searchParams.get('access_token') ?? undefined) : undefined);
      const principal = definition.scope === 'none' ? ANYONE : tokens.authorize(presented, definition.scope);
      checkDeclaredLength(request, maxBodyBytes);
      const query = definition.query ? validate(definition.query, queryObject(url), 'query') : undefined;
      const body = definition.body
        ? validate(definition.body, await readJson(request, maxBodyBytes), 'body')
        : undefined;
      const result = await definition.handler({ request, params: c.req.param(), body, query, principal });
      if (result instanceof Response) return result;
      return new Response(JSON.stringify(result), {
        status: definition.status ?? 200,
        headers: { 'content-type': 'application/json' },
      });
    } catch (error) {
      if (!AgentrixError.isInstance(error) || error.kind === 'system') {
        logger.error({ error, method: request.method, path: definition.path }, 'control API request failed');
      }
      return errorResponse(error, secrets);
    }
  };

  const app = new Hono();
  if (options.cors) {
    const origin = options.cors.origin;
    app.use('/api/*', cors({ origin: typeof origin === 'string' ? origin : [...origin], credentials: false }));
  }
  for (const definition of routes) app.on(definition.method, definition.path, (c) => handle(definition, c));
  app.get('/openapi.json', (c) => c.json(openapi));
  const assets = options.console ? staticFiles(options.console) : undefined;
  app.notFound(async (c) => {
    const path = c.req.path;
    if (assets && (c.req.method === 'GET' || c.req.method === 'HEAD') && !path.startsWith('/api/')) {
      const response = await assets(c.req.raw, path);
      if (response) return response;
    }
    return errorResponse(notFound(`No route ${c.req.method} ${path}; the routes are listed at /openapi.json`), secrets);
  });
  app.onError((error) => errorResponse(error, secrets));

  let listening: ListeningServer | undefined;
  let closing: Promise<void> | undefined;
  const server: AgentrixServer = {
    app,
    routes,
    fetch: async (request) => app.fetch(request),
    async listen(listenOptions = {}) {
      if (closing) throw new AgentrixError('CLOSED', 'The server is closed');
      if (listening) throw new AgentrixError('INVALID_ARGUMENT', `The server already listens on ${listening.url}`);
      listening = await listen(app.fetch, { ...listenOptions, tokens: tokens.enabled });
      return { url: listening.url, host: listening.host, port: listening.port };
    },
    close() {
      closing ??= (async () => {
        context.recent.close();
        hub.close();
        await listening?.close();
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return server.close();
    },
  };
  return server;
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new AgentrixError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}
