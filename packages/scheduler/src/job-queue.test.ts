import { openTestPglite, useTestPglite } from '@agentrix/store/testing';
import { jobQueueContract } from './job-queue.contract.js';
import { schedulerMigrations } from './migrations.js';

const pglite = useTestPglite({ migrations: schedulerMigrations });

jobQueueContract('PGlite', () => pglite().database, openTestPglite);
