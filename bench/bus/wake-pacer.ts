import type { MessageBus } from '@agentrix/core';
import { monotonicMs } from './monotonic.js';

/**
 * Sends `rate` messages per second for `ms`, round-robin to `agents`, paced every millisecond or
 * so; each message's content is the monotonic time of its send (see `monotonicMs`), to 0.1 µs.
 * Sends are counted, not kept (holding their promises would add the bench's own GC work).
 * Returns how many.
 */
export async function paceSends(bus: MessageBus, agents: readonly string[], rate: number, ms: number): Promise<number> {
  let sent = 0;
  let outstanding = 0;
  let failure: unknown;
  const settled = () => {
    outstanding--;
  };
  const failed = (error: unknown) => {
    outstanding--;
    failure ??= error;
  };
  const began = monotonicMs();
  while (monotonicMs() < began + ms) {
    const due = Math.floor(((monotonicMs() - began) * rate) / 1000);
    while (sent < due) {
      outstanding++;
      const to = agents[sent++ % agents.length]!;
      // toFixed, not String(): V8 (Node 20) allocates the string String() makes of a fractional
      // number directly in old space, 33 bytes a message that only a mark-compact frees
      // (bench/bus/old-space.ts, session 11): half of the old-space garbage of a wake run.
      bus.send({ from: 'bench', to, content: monotonicMs().toFixed(4) }).then(settled, failed);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  while (outstanding > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  if (failure !== undefined) throw failure;
  return sent;
}
