import { useTestPglite } from '@agentrix/store/testing';
import { schedulerMigrations } from './migrations.js';
import { schedulerContract } from './scheduler.contract.js';

const pglite = useTestPglite({ migrations: schedulerMigrations });

schedulerContract('PGlite', () => pglite().database);
