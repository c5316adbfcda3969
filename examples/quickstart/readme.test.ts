import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('README snippet', () => {
  it('is this file, verbatim (so it is type-checked and run here)', async () => {
    const readme = await readFile(here('../../README.md'), 'utf8');
    const snippet = await readFile(here('readme.ts'), 'utf8');
    expect(readme).toContain(snippet.trim());
  });

  it('runs and prints the answer', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--conditions=agentrix-source', '--import', 'tsx', here('readme.ts')],
      {
        cwd: here('.'),
      },
    );
    expect(stdout.trim()).toBe('It is 21 °C in Oslo.');
  });
});
