// V8's sampling heap profiler for the bus diagnostics (allocation.ts, wake-split.ts): the bytes
// allocated between start and stop, by function, objects collected by GC included.
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

export interface AllocationSites {
  /** Bytes allocated in all (sampled). */
  total: number;
  /** Bytes by function (`name file:line`), largest first. */
  sites: Array<[string, number]>;
}

/** Starts sampling every `samplingInterval` bytes; `stop()` ends it and gives the bytes by function. */
export async function startHeapSampling(samplingInterval: number): Promise<{ stop(): Promise<AllocationSites> }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  } as never);
  return {
    async stop() {
      try {
        const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
        const bytes = new Map<string, number>();
        let total = 0;
        const visit = (node: ProfileNode) => {
          const frame = node.callFrame;
          const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber + 1}`;
          bytes.set(name, (bytes.get(name) ?? 0) + node.selfSize);
          total += node.selfSize;
          for (const child of node.children) visit(child);
        };
        visit(profile.head);
        return { total, sites: [...bytes].sort((a, b) => b[1] - a[1]) };
      } finally {
        session.disconnect();
      }
    },
  };
}
