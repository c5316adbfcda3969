import { route } from '../route.js';
import type { ServerContext } from '../server-context.js';
import { plainEvent } from './gateway.js';

export function skillRoutes(context: ServerContext) {
  const { agentrix } = context;
  return [
    route({
      method: 'GET',
      path: '/api/mcp',
      scope: 'read',
      tag: 'skills',
      summary: 'MCP servers: state, tools, last error and recent failures',
      handler: () => {
        const failures = context.recent.list('mcpFailures').map(plainEvent);
        return {
          servers: (agentrix.mcp?.servers() ?? []).map((server) => ({
            ...server,
            recentFailures: failures.filter((event) => (event.data as { server?: string }).server === server.name),
          })),
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/skills',
      scope: 'read',
      tag: 'skills',
      summary: 'Registered skills and tools, and recent tool failures',
      handler: () => ({
        skills: agentrix.skills.registry.list().map((skill) => ({
          name: skill.name,
          description: skill.description,
          source: skill.source,
          costTier: skill.costTier,
          requiresApproval: skill.requiresApproval !== false,
          tags: skill.tags,
        })),
        recentFailures: context.recent.list('toolFailures').map(plainEvent),
      }),
    }),
  ];
}
