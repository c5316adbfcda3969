/**
 * The part of an ioredis client that Agentrix's Redis backends call (the bus's streams and
 * wake-ups, the gateway's budget store and cache), declared here so no package needs ioredis
 * types and a host passes one client to all of them. An `ioredis` `Redis` or `Cluster` fits.
 */
export interface RedisClientLike {
  /** `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close`, `end`. */
  readonly status: string;
  call(command: string, ...args: Array<string | number | Uint8Array>): Promise<unknown>;
  evalsha(sha: string, numberOfKeys: number, ...args: Array<string | number | Uint8Array>): Promise<unknown>;
  eval(script: string, numberOfKeys: number, ...args: Array<string | number | Uint8Array>): Promise<unknown>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: 'PX', milliseconds: number): Promise<unknown>;
  /**
   * `true` on an ioredis `Cluster`: the bus then splits its batch scripts per slot and declares
   * every key they touch, so ioredis routes each one (and follows `MOVED` / `ASK`).
   */
  readonly isCluster?: boolean;
  /** On a `Cluster`: slot -> node keys (`host:port`), primary first; names the node in errors. */
  readonly slots?: ReadonlyArray<readonly string[] | undefined>;
  /**
   * A new client with the same options (the bus uses one for wake-up subscriptions). A `Cluster`
   * takes startup nodes first (`[]`: the same ones), then the options.
   */
  duplicate(
    overrideOrNodes?: Record<string, unknown> | unknown[],
    clusterOverride?: Record<string, unknown>,
  ): RedisClientLike;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}
