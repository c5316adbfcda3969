import { AgentrixError, type MessageBus, parseWith } from '@agentrix/core';
import type { Memory } from '@agentrix/memory';
import { AgentManagerOptionsSchema } from './agent-manager-options.js';
import { AGENTRIX_OPTION_KEYS, type AgentrixOptions, REFUSED_OPTION_KEYS } from './agentrix-options.js';

/**
 * Checks what can be checked before anything is opened: unknown keys, the shape of `store`, `bus`,
 * `mcp` and `memory`, and options that contradict each other. What only a factory can judge (a
 * database URL's scheme, gateway options) fails when it is called, and what was opened before it
 * is closed.
 */
export function checkAgentrixOptions(options: AgentrixOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(`createAgentrix takes one options object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    const refused = REFUSED_OPTION_KEYS[key];
    if (refused !== undefined) throw invalid(`createAgentrix does not take "${key}": ${refused}`);
    if (!AGENTRIX_OPTION_KEYS.has(key)) {
      throw invalid(`Unknown createAgentrix option "${key}"; known options: ${[...AGENTRIX_OPTION_KEYS].join(', ')}`);
    }
  }
  parseWith(AgentManagerOptionsSchema, options, 'INVALID_ARGUMENT', 'createAgentrix options');
  checkStore(options.store);
  checkBus(options.bus, options.store !== undefined);
  if (options.gateway !== undefined) {
    if (typeof options.gateway !== 'object' || options.gateway === null) {
      throw invalid(`Invalid gateway ${describe(options.gateway)}: expected a Gateway or createGateway options`);
    }
    if (options.model !== undefined || options.models?.default !== undefined) {
      throw invalid(
        'Both a gateway and a default model were given: the gateway becomes the `default` model; register the other model under another name in `models`',
      );
    }
  }
  if (options.mcp !== undefined && !Array.isArray(options.mcp?.servers)) {
    throw invalid('Invalid mcp option: expected { servers: [...] } (McpServerOptions of each server to start)');
  }
  const memory = options.memory;
  if (memory !== undefined && memory !== true && (typeof memory !== 'object' || memory === null)) {
    throw invalid(`Invalid memory option ${describe(memory)}: expected true, memory options or a Memory`);
  }
  if (memory !== undefined && !isMemory(memory) && options.store === undefined) {
    throw invalid(
      "memory is kept on the store's database: pass a store too (store: 'memory://', a directory or a postgres:// URL), or a Memory you created",
    );
  }
  const distill = memory !== undefined && memory !== true && !isMemory(memory) ? memory.distill : undefined;
  if (distill !== undefined && distill !== true && (typeof distill !== 'object' || distill === null)) {
    throw invalid(`Invalid memory.distill option ${describe(distill)}: expected true or distiller options`);
  }
  if (distill !== undefined && options.gateway === undefined && (distill === true || distill.model === undefined)) {
    throw invalid(
      'memory.distill needs a small model: pass a gateway (its `small` tier is used, budgeted and metered) or memory.distill.model',
    );
  }
}

function checkStore(store: AgentrixOptions['store']): void {
  if (store === undefined) return;
  if (typeof store === 'string' ? store.trim() !== '' : typeof store === 'object' && store !== null) return;
  throw invalid(
    `Invalid store ${describe(store)}: expected 'memory://', a directory, a postgres:// URL, createAgentrixStore options or an AgentrixStore`,
  );
}

const BUS_CHOICES =
  "'memory://' (in this process), 'store' (the store's durable bus), a redis:// or rediss:// URL, an ioredis client, createRedisBus options or a MessageBus";

function checkBus(bus: AgentrixOptions['bus'], hasStore: boolean): void {
  if (bus === undefined) return;
  if (typeof bus === 'string') {
    if (bus === 'store' && !hasStore) throw invalid("bus 'store' needs a store: pass `store` too");
    if (bus === 'memory://' || bus === 'store' || isRedisUrl(bus)) return;
    throw invalid(`Unsupported bus "${bus}": expected ${BUS_CHOICES}`);
  }
  if (typeof bus === 'object' && bus !== null) {
    if (isMessageBus(bus) || isRedisClient(bus) || 'client' in bus) return;
    const { url } = bus as { url?: unknown };
    if (typeof url === 'string' && isRedisUrl(url)) return;
  }
  throw invalid(`Invalid bus ${describe(bus)}: expected ${BUS_CHOICES}`);
}

function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\//i.test(value);
}

export function isMessageBus(value: object): value is MessageBus {
  const bus = value as Partial<MessageBus>;
  return typeof bus.send === 'function' && typeof bus.read === 'function' && typeof bus.ack === 'function';
}

/** An ioredis client (or one with its shape): what `createRedisBus({ client })` takes. */
export function isRedisClient(value: object): boolean {
  const client = value as { duplicate?: unknown; evalsha?: unknown };
  return typeof client.duplicate === 'function' && typeof client.evalsha === 'function';
}

/** A `Memory` the host created (not options for one). */
export function isMemory(value: unknown): value is Memory {
  return (
    typeof value === 'object' && value !== null && typeof (value as { retrieve?: unknown }).retrieve === 'function'
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

function invalid(message: string): AgentrixError {
  return new AgentrixError('INVALID_ARGUMENT', message);
}
