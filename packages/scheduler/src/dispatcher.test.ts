import { useTestPglite } from '@agentrix/store/testing';
import { dispatcherContract } from './dispatcher.contract.js';
import { schedulerMigrations } from './migrations.js';

const pglite = useTestPglite({ migrations: schedulerMigrations });

dispatcherContract('PGlite', () => pglite().database);
