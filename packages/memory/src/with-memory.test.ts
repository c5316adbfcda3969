import { openDatabase } from '@agentrix/store';
import { withMemoryContract } from './with-memory.contract.js';

withMemoryContract('PGlite', async () => {
  const database = await openDatabase('memory://');
  return { database, dispose: () => database.close() };
});
