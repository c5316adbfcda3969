import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Runs `main` when a Postgres is at hand (`DATABASE_URL`, or `AGENTRIX_BENCH_NO_POSTGRES` to skip
 * the Postgres rows); otherwise re-runs this very bench under `scripts/with-services.mjs`, which
 * starts a throwaway PostgreSQL 15 and stops it afterwards.
 */
export async function withPostgres(main: () => Promise<void>): Promise<void> {
  if (process.env.DATABASE_URL || process.env.AGENTRIX_BENCH_NO_POSTGRES) {
    await main();
    return;
  }
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'scripts/with-services.mjs'),
      '--',
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, AGENTRIX_SERVICES: 'postgres' } },
  );
  child.on('exit', (code) => process.exit(code ?? 1));
}
