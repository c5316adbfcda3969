import type { JobQueue } from '@agentrix/scheduler';
import { notFound } from '../http-error.js';
import { route } from '../route.js';
import { DeadLettersQuery, DiscardDeadLettersBody, JobSchema, JobsQuery, RedriveInboxBody } from '../schemas.js';
import type { ServerContext } from '../server-context.js';
import { plainEvent } from './gateway.js';

/** A redrive or discard by id that found none of its messages (redriven or discarded meanwhile, or never dead). */
function noDeadLetter(inbox: string, ids: readonly string[]) {
  const shown =
    ids
      .slice(0, 3)
      .map((id) => `"${id}"`)
      .join(', ') + (ids.length > 3 ? `, ... (${ids.length})` : '');
  return notFound(`No dead letter in inbox "${inbox}" for message id ${shown}`, { inbox, ids });
}

export function jobRoutes(context: ServerContext) {
  const { agentrix } = context;
  const queue = (name: string): JobQueue => {
    const found = context.queues.get(name);
    if (!found) {
      throw notFound(`No queue "${name}"; known: ${[...context.queues.keys()].join(', ') || 'none'}`, { queue: name });
    }
    return found;
  };
  return [
    route({
      method: 'GET',
      path: '/api/bus/inboxes',
      scope: 'read',
      tag: 'jobs',
      summary: "Each agent's inbox: unread, in flight, dead letters",
      handler: async () => ({
        inboxes: await Promise.all(
          agentrix.list().map(async (agent) => ({ inbox: agent.id, ...(await agentrix.bus.stats(agent.id)) })),
        ),
      }),
    }),
    route({
      method: 'GET',
      path: '/api/bus/inboxes/:inbox/dead-letters',
      scope: 'read',
      tag: 'jobs',
      summary: "An inbox's dead letters, oldest first",
      query: DeadLettersQuery,
      handler: async ({ params, query }) => ({
        deadLetters: await agentrix.bus.deadLetters(params.inbox!, { limit: query.limit }),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/bus/inboxes/:inbox/dead-letters/redrive',
      scope: 'operate',
      tag: 'jobs',
      summary: "Put an inbox's dead letters back: all, those of `ids`, at most `limit` (oldest first)",
      body: RedriveInboxBody,
      handler: async ({ params, body }) => {
        const inbox = params.inbox!;
        const redriven = await agentrix.bus.redrive(inbox, {
          ...(body.ids !== undefined ? { ids: body.ids } : {}),
          ...(body.limit !== undefined ? { limit: body.limit } : {}),
        });
        if (body.ids !== undefined && redriven === 0) throw noDeadLetter(inbox, body.ids);
        return { redriven };
      },
    }),
    route({
      method: 'POST',
      path: '/api/bus/inboxes/:inbox/dead-letters/discard',
      scope: 'operate',
      tag: 'jobs',
      summary: 'Delete the dead letters of these message ids for good',
      body: DiscardDeadLettersBody,
      handler: async ({ params, body }) => {
        const discarded = await agentrix.bus.discardDeadLetters(params.inbox!, body.ids);
        if (discarded === 0) throw noDeadLetter(params.inbox!, body.ids);
        return { discarded };
      },
    }),
    route({
      method: 'GET',
      path: '/api/queues',
      scope: 'read',
      tag: 'jobs',
      summary: 'Job queues and how many jobs are in each state',
      handler: async () => ({
        queues: await Promise.all(
          [...context.queues.values()].map(async (found) => ({ queue: found.queue, counts: await found.counts() })),
        ),
      }),
    }),
    route({
      method: 'GET',
      path: '/api/queues/:queue/jobs',
      scope: 'read',
      tag: 'jobs',
      summary: 'Jobs of a queue, newest first, by state',
      query: JobsQuery,
      handler: async ({ params, query }) => ({
        jobs: await queue(params.queue!).list({
          limit: query.limit,
          offset: query.offset,
          ...(query.status !== undefined ? { status: query.status } : {}),
        }),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/queues/:queue/jobs/:jobId/redrive',
      scope: 'operate',
      tag: 'jobs',
      summary: 'Send a dead job back to pending',
      response: JobSchema,
      handler: async ({ params }) => {
        const found = queue(params.queue!);
        const count = await found.redrive({ ids: [params.jobId!] });
        if (count === 0)
          throw notFound(`No dead job "${params.jobId}" on queue "${found.queue}"`, { jobId: params.jobId });
        return { job: await found.get(params.jobId!) };
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/queues/:queue/jobs/:jobId',
      scope: 'operate',
      tag: 'jobs',
      summary: 'Discard a dead job',
      handler: async ({ params }) => {
        const found = queue(params.queue!);
        if (!(await found.discard(params.jobId!))) {
          throw notFound(`No dead job "${params.jobId}" on queue "${found.queue}"`, { jobId: params.jobId });
        }
        return { discarded: true };
      },
    }),
    route({
      method: 'GET',
      path: '/api/schedules',
      scope: 'read',
      tag: 'jobs',
      summary: 'Cron schedules and the recent ticks',
      handler: async () => ({
        schedules: (await Promise.all(context.schedulers.map((scheduler) => scheduler.list()))).flat(),
        recentTicks: context.recent.list('ticks').map(plainEvent),
      }),
    }),
  ];
}
