import type { Agentrix } from '@agentrix/runtime';
import type { z } from 'zod';
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

/**
 * `POST /api/approvals/:id/<verb>`: decides a pending call, in the name of the body's `by` or
 * else the caller's, and answers its outcome.
 */
function decisionRoute<Body extends { by?: string | undefined }>(
  agentrix: Agentrix,
  verb: 'approve' | 'reject',
  summary: string,
  body: z.ZodType<Body>,
  decide: (id: string, body: Body, by: { by?: string }) => void,
) {
  return route({
    method: 'POST',
    path: `/api/approvals/:id/${verb}`,
    scope: 'operate',
    tag: 'approvals',
    summary,
    body,
    handler: ({ params, body, principal }) => {
      requirePending(agentrix, params.id!);
      const by = body.by ?? principal.name;
      decide(params.id!, body, by !== undefined ? { by } : {});
      return { id: params.id, outcome: verb === 'approve' ? 'approved' : 'rejected' };
    },
  });
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
    decisionRoute(agentrix, 'approve', 'Let a waiting skill call run', ApproveBody, (id, _body, by) =>
      agentrix.approve(id, by),
    ),
    decisionRoute(
      agentrix,
      'reject',
      'Refuse a waiting skill call (the model gets the refusal)',
      RejectBody,
      (id, body, by) => agentrix.reject(id, body.reason, by),
    ),
  ];
}
