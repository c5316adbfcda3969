import { AgentrixError } from '@agentrix/core';
import { parseFilter } from '../event-filter.js';
import { eventJson } from '../live-event.js';
import { route } from '../route.js';
import { EventsQuery, EventsResponse, RecentEventsQuery } from '../schemas.js';
import type { ServerContext } from '../server-context.js';

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // Tells nginx not to buffer the stream.
  'x-accel-buffering': 'no',
};

export function eventRoutes(context: ServerContext) {
  const { hub } = context;
  return [
    route({
      method: 'GET',
      path: '/api/events',
      scope: 'read',
      tag: 'events',
      summary:
        'Live events (SSE), filterable by agent and kind; resumes after Last-Event-ID from the last 10,000 events',
      query: EventsQuery,
      sse: true,
      handler: ({ query, request }) => {
        const header = request.headers.get('last-event-id');
        let lastEventId = query.lastEventId;
        if (header !== null && header.trim() !== '') {
          const parsed = Number(header);
          if (!Number.isSafeInteger(parsed) || parsed < 0) {
            throw new AgentrixError(
              'INVALID_ARGUMENT',
              `Last-Event-ID must be an event id (a number), got "${header}"`,
            );
          }
          lastEventId = parsed;
        }
        const stream = hub.subscribe(parseFilter(query.agent, query.kind), lastEventId, request.signal);
        return new Response(stream, { headers: SSE_HEADERS });
      },
    }),
    route({
      method: 'GET',
      path: '/api/events/stats',
      scope: 'read',
      tag: 'events',
      summary: 'The live stream: last and oldest kept ids, open SSE streams, streams cut as too slow',
      handler: () => hub.stats(),
    }),
    route({
      method: 'GET',
      path: '/api/events/recent',
      scope: 'read',
      tag: 'events',
      summary: 'The most recent kept events, oldest first',
      query: RecentEventsQuery,
      response: EventsResponse,
      handler: ({ query }) => {
        const events = hub.since(0, parseFilter(query.agent, query.kind), query.limit);
        return new Response(`{"events":[${events.map(eventJson).join(',')}]}`, {
          headers: { 'content-type': 'application/json' },
        });
      },
    }),
  ];
}
