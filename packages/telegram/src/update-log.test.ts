import { describe } from 'vitest';
import { updateLogContract } from './update-log.contract.js';
import { InMemoryUpdateLog } from './update-log.js';

describe('InMemoryUpdateLog', () => {
  updateLogContract(async () => new InMemoryUpdateLog());
});
