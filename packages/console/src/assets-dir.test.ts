import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import config from '../vite.config.js';
import { consoleAssetsDir } from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('consoleAssetsDir', () => {
  it('is where the package build writes the console, and the tarball ships it', () => {
    expect(consoleAssetsDir).toBe(join(packageDir, 'dist', 'static'));
    const userConfig = config as { build?: { outDir?: string }; base?: string };
    expect(userConfig.build?.outDir).toBe(consoleAssetsDir);
    // Relative asset URLs: the console works under any prefix the server is mounted at.
    expect(userConfig.base).toBe('./');
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    expect(manifest.files).toContain('dist');
    expect(manifest.scripts.build).toMatch(/&& vite build$/);
  });
});
