import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.js';

// Issue 12, item 1: a plain script with nothing else keeping Node alive finishes every call it
// awaits. Before the fix these scripts exited with code 13 (top-level await never settled),
// printing nothing: the retry wait was an unref'd timer.
const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

describe('no silent exit (runtime)', () => {
  it("a script awaiting runTurn survives the runtime's model retry wait", async () => {
    const outcome = await runScript(script('model-retry.script.ts'));
    expect(outcome.stderr).toBe('');
    expect(outcome).toMatchObject({ code: 0, stdout: 'RESULT answered after the retry\n' });
  });

  it('a script awaiting ask() survives the retry backoff and exits by itself after close', async () => {
    const outcome = await runScript(script('ask-retry.script.ts'));
    expect(outcome.stderr).toBe('');
    expect(outcome).toMatchObject({ code: 0, stdout: 'RESULT pong\n' });
  });
});
