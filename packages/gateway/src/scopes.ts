import type { CallScope } from '@agentrix/core';
import type { LimitScope } from './gateway-options.js';

/**
 * The key part of `limit` for a call's scope, or `undefined` when the limit does not apply:
 * `''` for an exact match or `global`, the value for a `'*'` limit.
 */
export function scopeKey(limit: LimitScope, scope: CallScope): string | undefined {
  if (limit === 'global') return '';
  if ('agentId' in limit) return match(limit.agentId, scope.agentId);
  if ('userId' in limit) return match(limit.userId, scope.userId);
  if ('workflowId' in limit) return match(limit.workflowId, scope.workflowId);
  return scope.tags?.includes(limit.tag) ? '' : undefined;
}

function match(wanted: string, actual: string | undefined): string | undefined {
  if (actual === undefined) return undefined;
  if (wanted === '*') return actual;
  return wanted === actual ? '' : undefined;
}

/** `agent:planner`, `user:*`, `tag:research`, `global`. */
export function describeScope(limit: LimitScope): string {
  if (limit === 'global') return 'global';
  if ('agentId' in limit) return `agent:${limit.agentId}`;
  if ('userId' in limit) return `user:${limit.userId}`;
  if ('workflowId' in limit) return `workflow:${limit.workflowId}`;
  return `tag:${limit.tag}`;
}
