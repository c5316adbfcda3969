import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Repository rules that code review would otherwise have to remember: no import cycles, the
 * one-way package direction, explicit public exports.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const packagesDir = join(root, 'packages');
const packageNames = readdirSync(packagesDir).filter((name) => {
  try {
    readFileSync(join(packagesDir, name, 'src', 'index.ts'));
    return true;
  } catch {
    return false;
  }
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.tmp.ts')
      ? [path]
      : [];
  });
}

const IMPORT = /(?:import|export)\s+(type\s)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Module specifiers a file loads at run time (type-only imports are erased, so they are skipped). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].filter((match) => !match[1]).map((match) => (match[2] ?? match[3]) as string);
}

describe('repository structure', () => {
  it('has packages to check', () => {
    expect(packageNames).toEqual(expect.arrayContaining(['core', 'bus', 'runtime', 'testing']));
  });

  for (const name of packageNames) {
    const src = join(packagesDir, name, 'src');
    const files = sourceFiles(src);
    const manifest = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8'));
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);

    it(`${name}: no import cycles`, () => {
      const graph = new Map<string, string[]>();
      for (const file of files) {
        graph.set(
          file,
          importsOf(file)
            .filter((spec) => spec.startsWith('.'))
            .map((spec) => resolve(file, '..', spec.replace(/\.js$/, '.ts'))),
        );
      }
      const cycles: string[] = [];
      const state = new Map<string, 'visiting' | 'done'>();
      const visit = (file: string, path: string[]) => {
        if (state.get(file) === 'done') return;
        if (state.get(file) === 'visiting') {
          cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(' -> '));
          return;
        }
        state.set(file, 'visiting');
        for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
        state.set(file, 'done');
      };
      for (const file of files) visit(file, []);
      expect(cycles).toEqual([]);
    });

    it(`${name}: published code imports only what its package.json declares, never another package's files`, () => {
      // Files reachable from index.ts are published; the rest (test support, child scripts,
      // contract suites) may also use dev dependencies.
      const published = new Set<string>();
      const queue = [join(src, 'index.ts')];
      while (queue.length > 0) {
        const file = queue.pop() as string;
        if (published.has(file)) continue;
        published.add(file);
        for (const spec of importsOf(file)) {
          if (spec.startsWith('.')) queue.push(resolve(file, '..', spec.replace(/\.js$/, '.ts')));
        }
      }
      const devDependencies = new Set(Object.keys(manifest.devDependencies ?? {}));
      const problems: string[] = [];
      for (const file of files) {
        for (const spec of importsOf(file)) {
          if (spec.startsWith('.')) {
            const target = resolve(file, '..', spec);
            if (!target.startsWith(src)) problems.push(`${relative(root, file)} reaches outside its package: ${spec}`);
            continue;
          }
          if (spec.startsWith('node:')) continue;
          const base = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
          const allowed = declared.has(base) || (!published.has(file) && devDependencies.has(base));
          if (!allowed) problems.push(`${relative(root, file)} imports undeclared ${base}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it(`${name}: index.ts uses explicit named exports`, () => {
      const index = readFileSync(join(src, 'index.ts'), 'utf8');
      expect(index).not.toMatch(/export \*/);
    });
  }

  it('core depends on nothing heavy and on no other @agentrix package', () => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, 'core', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['eventemitter3', 'zod']);
  });

  it('gives every package one version and the same engines while on 0.x', () => {
    const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const name of packageNames) {
      const manifest = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8'));
      expect(manifest.version, name).toBe(rootManifest.version);
      expect(manifest.engines, name).toEqual({ node: '>=20.19' });
      expect(manifest.name, name).toBe(`@agentrix/${name}`);
      // Published exports are the dev exports without the source condition (src/ is not shipped).
      const published = JSON.parse(
        JSON.stringify(manifest.exports, (key, value) => (key === 'agentrix-source' ? undefined : value)),
      );
      expect(manifest.publishConfig?.exports, name).toEqual(published);
    }
  });
});
