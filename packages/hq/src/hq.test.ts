import { schedulerMigrations } from '@agentrix/scheduler';
import { useTestPglite } from '@agentrix/store/testing';
import { hqContract } from './hq.contract.js';

const pglite = useTestPglite({ migrations: schedulerMigrations });

hqContract('PGlite', () => pglite().database);
