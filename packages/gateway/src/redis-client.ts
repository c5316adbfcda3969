/**
 * The few ioredis methods the gateway's Redis backends call. An `ioredis` `Redis` (or `Cluster`)
 * instance fits; ioredis stays an optional peer dependency.
 */
export interface RedisClientLike {
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: 'PX', milliseconds: number): Promise<unknown>;
}
