import type { Agentrix } from '@agentrix/runtime';
import { notFound } from '../http-error.js';
import { route } from '../route.js';
import { ApprovalsQuery, ApproveBody, RejectBody } from '../schemas.js';
import type { ServerContext } from '../server-context.js';

/** Pending approvals, or none when the agentrix has no gate. */
function pending(agentrix: Agentrix, agentId?: string) {
  try {
    return agentrix.pendingApprovals(agentId);
  } catch {
    return [];
  }
}

function requirePending(agentrix: Agentrix, id: string): void {
  if (!pending(agentrix).some((request) => request.id === id)) {
    throw notFound(`No pending approval "${id}" (it was decided, timed out or never existed)`, { id });
  }
}

export function approvalRoutes(context: ServerContext) {
  const { agentrix } = context;
  return [
    route({
      method: 'GET',
      path: '/api/approvals',
      scope: 'read',
      tag: 'approvals',
      summary: 'Skill calls waiting for a human',
      query: ApprovalsQuery,
      handler: ({ query }) => ({
        approvals: pending(agentrix, query.agentId).map(({ id, agentId, skill, input }) => ({
          id,
          agentId,
          skill,
          input,
        })),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/approvals/:id/approve',
      scope: 'operate',
      tag: 'approvals',
      summary: 'Let a waiting skill call run',
      body: ApproveBody,
      handler: ({ params, body, principal }) => {
        requirePending(agentrix, params.id!);
        const by = body.by ?? principal.name;
        agentrix.approve(params.id!, by !== undefined ? { by } : {});
        return { id: params.id, outcome: 'approved' };
      },
    }),
    route({
      method: 'POST',
      path: '/api/approvals/:id/reject',
      scope: 'operate',
      tag: 'approvals',
      summary: 'Refuse a waiting skill call (the model gets the refusal)',
      body: RejectBody,
      handler: ({ params, body, principal }) => {
        requirePending(agentrix, params.id!);
        const by = body.by ?? principal.name;
        agentrix.reject(params.id!, body.reason, by !== undefined ? { by } : {});
        return { id: params.id, outcome: 'rejected' };
      },
    }),
  ];
}
