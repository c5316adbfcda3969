// `@agentrix/store/testing`: what a package's tests (or a third-party store's) need to run on a
// real database: a fresh PGlite in a directory of its own, a Postgres schema of its own (each also
// for the tests of a file or `describe`: `useTestPglite` / `useTestPostgres`), the
// `Database` contract suite, a logger that keeps its lines, and the child processes and databases
// of crash tests.
export type { DatabaseContractOptions } from '../database.contract.js';
export { databaseContract } from '../database.contract.js';
export type { CapturingLogger, LogLine } from './capturing-logger.js';
export { capturingLogger } from './capturing-logger.js';
export { onPgliteDirectory, onPostgresSchema } from './crash-databases.js';
export type { TestPglite } from './pglite-template.js';
export { openTestPglite } from './pglite-template.js';
export type { TestPostgres } from './postgres-schema.js';
export { openTestPostgres } from './postgres-schema.js';
export type { ScriptChildOptions, ScriptChildOutcome } from './script-child.js';
export { runScriptChild } from './script-child.js';
export { useTestPglite, useTestPostgres } from './suite-databases.js';
