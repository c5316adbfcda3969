import { fileURLToPath } from 'node:url';

/**
 * The absolute path of the console's built static files (`index.html` and `assets/`), made by
 * the package build (`vite build` into `dist/static`). Give it to the server:
 * `createServer({ agentrix, console: consoleAssetsDir })`. The same path from the sources
 * (`src/`) and from the build (`dist/`), since `../dist/static` resolves to `dist/static` from both.
 */
export const consoleAssetsDir: string = fileURLToPath(new URL('../dist/static', import.meta.url));
