import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves a directory of built files (the console): the file at the path, with `.gz` / `.br`
 * siblings when the client accepts them; `index.html` for `/` and for any path without an
 * extension (client-side routes). Paths that leave the directory are refused.
 */
export function staticFiles(directory: string): (request: Request, path: string) => Promise<Response | undefined> {
  const root = resolve(directory);
  return async (request, path) => {
    const wanted = decodeURIComponent(path);
    const file = extname(wanted) === '' ? 'index.html' : wanted;
    const full = normalize(join(root, file));
    if (full !== root && !full.startsWith(root + sep)) return undefined;
    const type = TYPES[extname(full)] ?? 'application/octet-stream';
    const accepts = request.headers.get('accept-encoding') ?? '';
    for (const [encoding, suffix] of [
      ['br', '.br'],
      ['gzip', '.gz'],
    ] as const) {
      if (!accepts.includes(encoding)) continue;
      const body = await readIfFile(full + suffix);
      if (body) return file200(body, type, file, encoding);
    }
    const body = await readIfFile(full);
    return body ? file200(body, type, file) : undefined;
  };
}

async function readIfFile(path: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

function file200(body: Buffer, type: string, file: string, encoding?: string): Response {
  const headers: Record<string, string> = {
    'content-type': type,
    // Hashed asset names never change; index.html must be revalidated to pick up a new build.
    'cache-control': file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
    vary: 'accept-encoding',
  };
  if (encoding) headers['content-encoding'] = encoding;
  return new Response(new Uint8Array(body), { headers });
}
