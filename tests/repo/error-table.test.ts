import { readFileSync } from 'node:fs';
import { AgentrixError, type AgentrixErrorCode } from '@agentrix/core';
import { describe, expect, it } from 'vitest';

/**
 * The error table of docs/architecture.md is what hosts read to decide what to retry and whose
 * fault an error is: it lists every code of core's `AgentrixErrorCode` union, with the kind and
 * the retryability the code gives.
 */
const root = new URL('../../', import.meta.url);
const codesInCore = [
  ...readFileSync(new URL('packages/core/src/errors.ts', root), 'utf8')
    .split('export type AgentrixErrorKind')[0]!
    .matchAll(/\|\s*'([A-Z_]+)'/g),
].map((match) => match[1] as AgentrixErrorCode);
const rows = [
  ...readFileSync(new URL('docs/architecture.md', root), 'utf8').matchAll(
    /^\| `([A-Z_]+)` +\| (user|system) +\| ([^|]+?) +\|/gm,
  ),
].map(([, code, kind, retryable]) => ({ code: code as AgentrixErrorCode, kind, retryable: retryable as string }));

describe('the error table of docs/architecture.md', () => {
  it('lists every code of core, once', () => {
    expect(codesInCore.length).toBeGreaterThan(30);
    expect(rows.map((row) => row.code).sort()).toEqual([...codesInCore].sort());
  });

  it('gives each code the kind and default retryability the code has', () => {
    for (const row of rows) {
      const error = new AgentrixError(row.code, 'x');
      expect(row.kind, row.code).toBe(error.kind);
      expect(row.retryable.startsWith('yes'), `${row.code}: ${row.retryable}`).toBe(error.isRetryable);
    }
  });
});
