import { openDatabase } from '@agentrix/store';
import { memoryContract } from './memory.contract.js';

memoryContract('PGlite', async () => {
  const database = await openDatabase('memory://');
  return { database, dispose: () => database.close() };
});
