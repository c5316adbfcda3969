import { openTestPglite } from '@agentrix/store/testing';
import { memoryContract } from './memory.contract.js';

// A copy of the prepared template (~0.5 s) instead of a fresh initdb (~3 s, more under load): the
// contract opens a second database inside a test (the migration upgrade), under the test timeout.
memoryContract('PGlite', openTestPglite);
