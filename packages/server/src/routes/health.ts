import { route } from '../route.js';
import type { ServerContext } from '../server-context.js';

export function healthRoutes(context: ServerContext) {
  return [
    route({
      method: 'GET',
      path: '/healthz',
      scope: 'none',
      tag: 'health',
      summary: 'Liveness: the process answers',
      handler: () => ({ status: 'ok' }),
    }),
    route({
      method: 'GET',
      path: '/readyz',
      scope: 'none',
      tag: 'health',
      summary:
        'Readiness (agentrix.health()): 503 when the store or the bus is down; a degraded model or MCP server is still ready',
      handler: async () => {
        const health = await context.agentrix.health();
        const ready = health.status !== 'down';
        return Response.json({ ready, health }, { status: ready ? 200 : 503 });
      },
    }),
  ];
}
