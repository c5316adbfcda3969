import { createRequire } from 'node:module';
import { AgentrixError } from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agentrix } from './agentrix.js';
import { createAgentrix } from './create-agentrix.js';

const EVERYTHING = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
const everything = { name: 'everything', transport: 'stdio' as const, command: process.execPath, args: [EVERYTHING] };
const secret = 'sk-health-0123456789abcdef0123456789abcdef';

// One store (PGlite in memory, ~2 s) and one MCP server for the file; the store is closed last.
let agentrix: Agentrix;
beforeAll(async () => {
  agentrix = await createAgentrix({
    store: 'memory://',
    model: new MockLLM({
      fallback: (request) =>
        String(request.messages.at(-1)?.content).includes('fail')
          ? { error: new AgentrixError('MODEL_ERROR', `upstream down (key ${secret})`) }
          : { text: 'pong' },
    }),
    mcp: { servers: [everything] },
    secrets: [secret],
  });
  await agentrix.create({ id: 'a1' });
  await agentrix.create({ id: 'flaky', modelRetry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
}, 30_000);
afterAll(() => agentrix?.close());

describe('agentrix.health()', () => {
  it('reports the store, the bus and each MCP server with latency; the model once it has been called', async () => {
    const before = await agentrix.health();
    expect(before.status).toBe('ok');
    expect(before.store).toMatchObject({ status: 'ok', latencyMs: expect.any(Number) });
    expect(before.bus).toMatchObject({ status: 'ok', latencyMs: expect.any(Number) });
    expect(before.mcp.everything).toMatchObject({ status: 'ok', latencyMs: expect.any(Number) });
    expect(before.model).toEqual({ status: 'unknown' });

    await agentrix.ask('a1', 'ping');
    expect((await agentrix.health()).model).toMatchObject({ status: 'ok', latencyMs: expect.any(Number) });
  });

  it('a failing model makes it degraded, with the last error redacted', async () => {
    await agentrix.ask('flaky', 'fail please', { timeoutMs: 5_000 }).catch(() => {});
    await agentrix.terminate('flaky');
    const health = await agentrix.health();
    expect(health.status).toBe('degraded');
    expect(health.model.status).toBe('down');
    expect(health.model.lastError).toContain('upstream down');
    expect(JSON.stringify(health)).not.toContain(secret);
    await agentrix.ask('a1', 'ping');
    expect((await agentrix.health()).model.status).toBe('ok');
  });

  it('an MCP server that died is down, with its last error: degraded', async () => {
    process.kill(agentrix.mcp!.status('everything').pid!, 'SIGKILL');
    await expect.poll(async () => (await agentrix.health()).mcp.everything?.status, { timeout: 5_000 }).toBe('down');
    const health = await agentrix.health();
    expect(health.status).toBe('degraded');
    expect(health.mcp.everything?.lastError).toMatch(/closed/);
    expect(health.store?.status).toBe('ok');
  });
});
