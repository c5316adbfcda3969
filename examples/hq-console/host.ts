import { createHqConsole } from './hq-console.js';

// For the CLI: `agentrix dev examples/hq-console/host.ts` serves this HQ with the console.
export default createHqConsole;
