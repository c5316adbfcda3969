import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

// The console is plain static files: `vite build` writes them to dist/static at package build
// time; tests build the same config into a temp dir (`build.outDir`).
export default defineConfig({
  root: fileURLToPath(new URL('./src/ui', import.meta.url)),
  // Relative asset URLs, so the server can mount the console under any prefix.
  base: './',
  logLevel: 'warn',
  plugins: [precompress()],
  build: {
    outDir: fileURLToPath(new URL('./dist/static', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
});

/**
 * Writes `.br` and `.gz` next to each text file: the server sends them to a client that accepts
 * the encoding, so the first load is the compressed size without compressing per request.
 */
function precompress(): Plugin {
  return {
    name: 'agentrix-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(html|js|css|svg|json)$/.test(name)) continue;
        const file = join(options.dir as string, name);
        const content = readFileSync(file);
        writeFileSync(`${file}.gz`, gzipSync(content, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }),
        );
      }
    },
  };
}
