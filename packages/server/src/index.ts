export type { Principal } from './auth.js';
export type { AgentrixServer, ListenOptions } from './create-server.js';
export { createServer } from './create-server.js';
export { isLoopback } from './listen.js';
export type { RouteContext, RouteDefinition } from './route.js';
export type { CreateServerOptions, Scope, ServerToken } from './server-options.js';
