import { Redis } from 'ioredis';

/**
 * CPU time a Redis server has used so far (user + system, µs) from `INFO cpu`, read over a
 * connection of its own: the server side of "CPU per message", which stays honest when the
 * machine is loaded (a rate does not).
 */
export class RedisServerCpu {
  readonly #client: Redis;

  constructor(url: string) {
    this.#client = new Redis(url, { enableAutoPipelining: false });
  }

  async micros(): Promise<number> {
    const info = await this.#client.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (field('used_cpu_sys') + field('used_cpu_user')) * 1_000_000;
  }

  /**
   * How many times the server has read from and written to its clients' sockets so far
   * (`INFO stats`): per message, how well the commands of many messages share one socket write.
   */
  async socketCalls(): Promise<{ reads: number; writes: number }> {
    const info = await this.#client.info('stats');
    const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? 0);
    return { reads: field('total_reads_processed'), writes: field('total_writes_processed') };
  }

  async close(): Promise<void> {
    await this.#client.quit();
  }
}
