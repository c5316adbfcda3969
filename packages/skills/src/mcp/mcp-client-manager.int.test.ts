import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentrixEvents, type ToolCall } from '@agentrix/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { capturingLogger } from '../fixtures/capturing-logger.js';
import { defineSkill } from '../skill.js';
import { SkillExecutor } from '../skill-executor.js';
import { SkillRegistry } from '../skill-registry.js';
import { McpClientManager } from './mcp-client-manager.js';
import {
  EVERYTHING,
  FILESYSTEM,
  freePort,
  type HttpServerProcess,
  isAlive,
  MEMORY,
  startEverythingHttp,
} from './test-servers.js';

const context = () => ({ agentId: 'agent', turnId: 'turn', signal: new AbortController().signal });
let nextId = 0;
const call = (name: string, args: unknown): ToolCall => ({ id: `c${++nextId}`, name, arguments: JSON.stringify(args) });
const errorOf = (content: string) => JSON.parse(content).error as { code: string; message: string; retryable: boolean };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(options: ConstructorParameters<typeof McpClientManager>[0] = {}) {
  const events = new AgentrixEvents();
  const registry = new SkillRegistry({ events });
  const manager = new McpClientManager({ registry, events, ...options });
  const executor = new SkillExecutor({ registry, events, retry: { attempts: 1 } });
  cleanups.push(() => manager.close());
  return { events, registry, manager, executor };
}

describe('McpClientManager over stdio (server-everything)', () => {
  it('registers namespaced tools, calls them through the executor, refreshes on list_changed and closes the child', async () => {
    const { manager, registry, executor, events } = setup({ roots: [{ uri: 'file:///tmp', name: 'tmp' }] });
    const changed = vi.fn();
    events.on('mcp.tools-changed', changed);
    const status = await manager.add({
      name: 'everything',
      transport: 'stdio',
      command: process.execPath,
      args: [EVERYTHING],
    });
    expect(status.state).toBe('connected');
    expect(status.tools.echo).toBe('everything__echo');
    expect(registry.get('everything__get-sum')?.source).toEqual({ kind: 'mcp', server: 'everything', tool: 'get-sum' });
    for (const name of registry.names()) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);

    const echo = await executor.executeToolCall(call('everything__echo', { message: 'hello' }), undefined, context());
    expect(echo.isError).toBeUndefined();
    expect(echo.content).toContain('hello');
    const sum = await executor.executeToolCall(call('everything__get-sum', { a: 2, b: 3 }), undefined, context());
    expect(sum.content).toContain('5');

    // Arguments failing the schema never reach the server.
    const invalid = await executor.executeToolCall(call('everything__get-sum', { a: 'two' }), undefined, context());
    expect(errorOf(invalid.content).code).toBe('TOOL_INPUT_INVALID');

    // The server registers get-roots-list after initialization (we declared roots) and says so with list_changed.
    await vi.waitFor(() => expect(registry.has('everything__get-roots-list')).toBe(true), { timeout: 10_000 });
    expect(changed).toHaveBeenCalledWith(expect.objectContaining({ server: 'everything' }));
    const roots = await executor.executeToolCall(call('everything__get-roots-list', {}), undefined, context());
    expect(roots.content).toContain('file:///tmp');

    const pid = manager.status('everything').pid!;
    expect(isAlive(pid)).toBe(true);
    await manager.close();
    await manager.close();
    expect(isAlive(pid)).toBe(false);
    expect(registry.list({ server: 'everything' })).toHaveLength(0);
  });

  it('times out slow calls and truncates big results', async () => {
    const { manager, executor } = setup();
    await manager.add({
      name: 'slow',
      transport: 'stdio',
      command: process.execPath,
      args: [EVERYTHING],
      callTimeoutMs: 300,
      maxResultChars: 60,
    });
    const slow = await executor.executeToolCall(
      call('slow__trigger-long-running-operation', { duration: 5, steps: 5 }),
      undefined,
      context(),
    );
    expect(errorOf(slow.content).code).toBe('TOOL_TIMEOUT');
    const big = await executor.executeToolCall(call('slow__echo', { message: 'y'.repeat(500) }), undefined, context());
    expect(big.content.length).toBeLessThanOrEqual(60);
    expect(big.content).toMatch(/truncated \d+ characters/);
    // The connection survives a timeout.
    expect(
      (await executor.executeToolCall(call('slow__echo', { message: 'ok' }), undefined, context())).content,
    ).toContain('ok');
  });

  it('reconnects with backoff after the server dies; a call during the outage waits for the reconnect', async () => {
    const logger = capturingLogger();
    const { manager, executor, events } = setup({ logger });
    await manager.add({
      name: 'phoenix',
      transport: 'stdio',
      command: process.execPath,
      args: [EVERYTHING],
      reconnect: { baseDelayMs: 400, maxDelayMs: 1_000 },
    });
    const firstPid = manager.status('phoenix').pid!;
    const disconnected = new Promise((resolve) => events.once('mcp.disconnected', resolve));
    process.kill(firstPid, 'SIGKILL');
    await disconnected;
    expect(manager.status('phoenix').state).toBe('reconnecting');
    const during = await executor.executeToolCall(call('phoenix__echo', { message: 'during' }), undefined, context());
    expect(during.isError).toBeUndefined();
    expect(during.content).toContain('during');
    expect(manager.status('phoenix').state).toBe('connected');
    const after = await executor.executeToolCall(call('phoenix__echo', { message: 'back' }), undefined, context());
    expect(after.content).toContain('back');
    const secondPid = manager.status('phoenix').pid!;
    expect(secondPid).not.toBe(firstPid);
    // The operator's view, in pino's order (fields, message).
    const lines = logger.lines.map(({ level, message, fields }) => ({ level, message, fields }));
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'MCP server connected',
        fields: { server: 'phoenix', transport: 'stdio', tools: expect.any(Number) },
      },
      {
        level: 'warn',
        message: 'MCP server disconnected; reconnecting',
        fields: expect.objectContaining({
          server: 'phoenix',
          error: expect.objectContaining({ code: 'TOOL_FAILED', message: expect.stringMatching(/disconnected/) }),
        }),
      },
      {
        level: 'info',
        message: 'MCP reconnect scheduled',
        fields: { server: 'phoenix', attempt: 1, delayMs: expect.any(Number) },
      },
      {
        level: 'info',
        message: 'MCP server reconnected',
        fields: { server: 'phoenix', transport: 'stdio', tools: expect.any(Number), attempt: 1 },
      },
    ]);
    await manager.close();
    expect(isAlive(secondPid)).toBe(false);
  });

  it('reports a server that fails to start with the tail of its stderr', async () => {
    const { manager, registry } = setup();
    const failing = manager.add({
      name: 'broken',
      transport: 'stdio',
      command: process.execPath,
      args: ['-e', "process.stderr.write('loading config...\\nfatal: missing API_TOKEN\\n'); process.exit(3)"],
    });
    await expect(failing).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      details: expect.objectContaining({ server: 'broken' }),
    });
    await expect(failing).rejects.toThrow(/fatal: missing API_TOKEN/);
    await expect(
      manager.add({ name: 'nothing', transport: 'stdio', command: '/definitely/not/a/command' }),
    ).rejects.toMatchObject({ code: 'TOOL_FAILED' });
    expect(manager.servers()).toHaveLength(0);
    expect(registry.size).toBe(0);
  });
});

describe('McpClientManager with server-filesystem and server-memory', () => {
  it('reads and writes files in a temp directory and keeps colliding names apart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentrix-fs-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { manager, registry, executor } = setup();
    // A local skill already holds the name the memory server's tool would get.
    registry.register(
      defineSkill({ name: 'memory__read_graph', description: 'local', input: z.object({}), execute: () => 'local' }),
    );
    await manager.add({ name: 'fs', transport: 'stdio', command: process.execPath, args: [FILESYSTEM, dir] });
    await manager.add({
      name: 'memory',
      transport: 'stdio',
      command: process.execPath,
      args: [MEMORY],
      env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
    });
    const file = join(dir, 'note.txt');
    const written = await executor.executeToolCall(
      call('fs__write_file', { path: file, content: 'remember me' }),
      undefined,
      context(),
    );
    expect(written.isError).toBeUndefined();
    expect(await readFile(file, 'utf8')).toBe('remember me');
    const read = await executor.executeToolCall(call('fs__read_text_file', { path: file }), undefined, context());
    expect(read.content).toContain('remember me');
    const outside = await executor.executeToolCall(
      call('fs__read_text_file', { path: '/etc/hostname' }),
      undefined,
      context(),
    );
    expect(outside.isError).toBe(true);

    const memoryTools = manager.status('memory').tools;
    expect(memoryTools.read_graph).toMatch(/^memory__read_graph_[0-9a-f]{6}$/);
    expect(registry.get('memory__read_graph')?.description).toBe('local');
    await executor.executeToolCall(
      call('memory__create_entities', {
        entities: [{ name: 'Ada', entityType: 'person', observations: ['writes code'] }],
      }),
      undefined,
      context(),
    );
    const graph = await executor.executeToolCall(call(memoryTools.read_graph!, {}), undefined, context());
    expect(graph.content).toContain('Ada');
  });
});

describe('McpClientManager over HTTP (server-everything)', () => {
  const servers: HttpServerProcess[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  it('speaks streamable HTTP, and reconnects when the server comes back', async () => {
    const port = await freePort();
    servers.push(await startEverythingHttp('streamableHttp', port));
    const { manager, executor } = setup();
    await manager.add({
      name: 'web',
      transport: 'streamable-http',
      url: servers[0]!.url,
      reconnect: { baseDelayMs: 200, maxDelayMs: 500 },
      reconnectWaitMs: 300,
    });
    expect(manager.status('web').transport).toBe('streamable-http');
    expect(
      (await executor.executeToolCall(call('web__echo', { message: 'over http' }), undefined, context())).content,
    ).toContain('over http');
    await servers.pop()!.stop();
    // The call that finds the connection broken fails (its effect is unknown) and starts the reconnect.
    const broken = await executor.executeToolCall(call('web__echo', { message: 'x' }), undefined, context());
    expect(errorOf(broken.content)).toMatchObject({ code: 'TOOL_FAILED', retryable: true });
    expect(manager.status('web').state).toBe('reconnecting');
    // The next one waits for the reconnect, at most reconnectWaitMs, then fails without a retry.
    const waited = await executor.executeToolCall(call('web__echo', { message: 'y' }), undefined, context());
    expect(errorOf(waited.content)).toMatchObject({ code: 'TOOL_FAILED', retryable: false });
    expect(errorOf(waited.content).message).toMatch(/is reconnecting.*waited 300 ms/s);
    servers.push(await startEverythingHttp('streamableHttp', port));
    await vi.waitFor(() => expect(manager.status('web').state).toBe('connected'), { timeout: 15_000 });
    expect(
      (await executor.executeToolCall(call('web__echo', { message: 'again' }), undefined, context())).content,
    ).toContain('again');
  });

  it('speaks the deprecated HTTP+SSE transport', async () => {
    servers.push(await startEverythingHttp('sse', await freePort()));
    const { manager, executor } = setup();
    await manager.add({ name: 'legacy', transport: 'sse', url: servers[0]!.url });
    expect(manager.status('legacy').transport).toBe('sse');
    const sum = await executor.executeToolCall(call('legacy__get-sum', { a: 20, b: 22 }), undefined, context());
    expect(sum.content).toContain('42');
  });
});
