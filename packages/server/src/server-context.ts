import type { Hq } from '@agentrix/hq';
import type { Agentrix } from '@agentrix/runtime';
import type { JobQueue, Scheduler } from '@agentrix/scheduler';
import type { EventHub } from './event-hub.js';
import type { RecentEvents } from './recent-events.js';

/** What the route handlers share. */
export interface ServerContext {
  agentrix: Agentrix;
  hq: Hq | undefined;
  queues: ReadonlyMap<string, JobQueue>;
  schedulers: readonly Scheduler[];
  hub: EventHub;
  recent: RecentEvents;
  secrets: readonly string[];
}
