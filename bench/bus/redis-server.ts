import { OwnRedisServer } from '@agentrix/bus/testing';

export { REDIS_SERVER_BIN } from '@agentrix/bus/testing';

/** A Redis for the bench: `REDIS_URL` when set, else a redis-server of our own (stopped by `stop`). */
export interface BenchRedis {
  url: string;
  port: number;
  host: string;
  /** True when this bench started the server (then its settings are known: no persistence). */
  own: boolean;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const existing = process.env.REDIS_URL;
  if (existing !== undefined && existing !== '') {
    const parsed = new URL(existing);
    return {
      url: existing,
      host: parsed.hostname,
      port: Number(parsed.port || 6379),
      own: false,
      stop: async () => {},
    };
  }
  const server = await OwnRedisServer.start({ persistence: false });
  return { url: server.url, host: '127.0.0.1', port: server.port, own: true, stop: () => server.stop() };
}
