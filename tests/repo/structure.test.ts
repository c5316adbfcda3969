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
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const packageNames = readdirSync(packagesDir).filter((name) => {
  try {
    readFileSync(join(packagesDir, name, 'src', 'index.ts'));
    return true;
  } catch {
    return false;
  }
});

/** A package's entry points: the source file of each `exports` entry (`.`, `./testing`, ...). */
function entryPoints(name: string): string[] {
  const manifest = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8'));
  return Object.values(manifest.exports as Record<string, string | Record<string, unknown>>)
    .map((entry) => (typeof entry === 'string' ? undefined : entry['agentrix-source']))
    .filter((source): source is string => typeof source === 'string')
    .map((source) => join(packagesDir, name, source));
}

/** Every TypeScript or JavaScript module under `dir`: tests, contract suites, fixtures and scripts too. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'tmp', '.tmp'].includes(entry.name) ? [] : allFiles(path);
    return /\.(ts|mts|mjs|js)$/.test(entry.name) && !/\.tmp\./.test(entry.name) ? [path] : [];
  });
}

/** Imports of `file` that reach into another package's files (its `src/` or anything else). */
function foreignImports(file: string): string[] {
  const ownPackage = file.startsWith(packagesDir)
    ? join(packagesDir, relative(packagesDir, file).split('/')[0] as string)
    : undefined;
  return importsOf(file, { typesToo: true }).filter((spec) => {
    if (spec.startsWith('@agentrix/')) return spec.split('/').includes('src');
    if (!spec.startsWith('.')) return false;
    const target = resolve(file, '..', spec);
    return target.startsWith(packagesDir) && !(ownPackage !== undefined && target.startsWith(`${ownPackage}/`));
  });
}

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

/**
 * Module specifiers a file loads at run time (type-only imports are erased, so they are skipped
 * unless `typesToo`).
 */
function importsOf(file: string, { typesToo = false } = {}): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)]
    .filter((match) => typesToo || !match[1])
    .map((match) => (match[2] ?? match[3]) as string);
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
      // Files reachable from an entry point (index.ts, a `./testing` subpath) are published; the
      // rest (tests, test support, child scripts) may also use dev dependencies.
      const published = new Set<string>();
      const queue = entryPoints(name);
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

    it(`${name}: its entry points use explicit named exports`, () => {
      for (const entry of entryPoints(name)) expect(readFileSync(entry, 'utf8'), entry).not.toMatch(/export \*/);
    });

    it(`${name}: tests import only declared packages`, () => {
      // The repository's own dev tools (vitest) are the root's, shared by every package's tests.
      const allowed = new Set([
        ...declared,
        ...Object.keys(manifest.devDependencies ?? {}),
        ...Object.keys(rootManifest.devDependencies ?? {}),
        manifest.name,
      ]);
      const problems: string[] = [];
      for (const file of allFiles(src).filter((path) => !files.includes(path))) {
        for (const spec of importsOf(file)) {
          if (spec.startsWith('.') || spec.startsWith('node:')) continue;
          const base = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
          if (!allowed.has(base)) problems.push(`${relative(root, file)} imports undeclared ${base}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it("no test, example or benchmark imports another package's src/ (public entries and ./testing instead)", () => {
    const problems: string[] = [];
    for (const dir of ['packages', 'tests', 'examples', 'bench']) {
      for (const file of allFiles(join(root, dir))) {
        const path = relative(root, file);
        for (const spec of foreignImports(file)) problems.push(`${path} imports ${spec}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('core depends on nothing heavy and on no other @agentrix package', () => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, 'core', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['eventemitter3', 'zod']);
  });

  it('gives every package one version and the same engines while on 0.x', () => {
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
