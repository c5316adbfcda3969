import type { EventHub } from './event-hub.js';
import type { LiveEvent } from './live-event.js';

/** The kinds of events the API lists after the fact, and what counts as one. */
const KINDS = {
  degraded: (event: LiveEvent) => event.name === 'gateway.degraded',
  toolFailures: (event: LiveEvent) =>
    (event.name === 'tool.completed' && event.json.includes('"isError":true')) || event.name === 'skill.retry',
  ticks: (event: LiveEvent) => event.name.startsWith('tick.'),
  mcpFailures: (event: LiveEvent) => event.name === 'mcp.disconnected' || event.name === 'mcp.reconnecting',
} as const;

export type RecentKind = keyof typeof KINDS;

/**
 * The last `keep` events of a few kinds (degradations, tool failures, cron ticks, MCP failures),
 * kept apart from the main ring so a burst of tokens does not push them out.
 */
export class RecentEvents {
  readonly #kept = new Map<RecentKind, LiveEvent[]>();
  readonly #stop: () => void;

  constructor(hub: EventHub, keep = 50) {
    for (const kind of Object.keys(KINDS) as RecentKind[]) this.#kept.set(kind, []);
    this.#stop = hub.listen((event) => {
      for (const [kind, matches] of Object.entries(KINDS) as [RecentKind, (event: LiveEvent) => boolean][]) {
        if (!matches(event)) continue;
        const list = this.#kept.get(kind)!;
        list.push(event);
        if (list.length > keep) list.shift();
      }
    });
  }

  /** Oldest first. */
  list(kind: RecentKind): readonly LiveEvent[] {
    return this.#kept.get(kind)!;
  }

  close(): void {
    this.#stop();
  }
}
