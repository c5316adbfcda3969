// A plain host script for bus-lifetime.int.test.ts: top-level await and nothing else keeping Node
// alive, so only the bus decides when the process may exit.
//
//   node --conditions=agentrix-source --import tsx bus-lifetime-script.ts memory|redis
//   env (redis): REDIS_URL, BUS_NAMESPACE
import { createInMemoryBus, createRedisBus } from './index.js';

const bus =
  process.argv[2] === 'redis'
    ? await createRedisBus({ url: process.env.REDIS_URL, namespace: process.env.BUS_NAMESPACE })
    : createInMemoryBus();
const started = Date.now();
await bus.send({ from: 'host', to: 'agent', content: 'x' });
const [delivery] = await bus.read('agent', { blockMs: 0 });
await bus.ack('agent', [delivery!.deliveryId]);
// Nothing answers this read: until its blockMs ends, its timer must keep the process alive.
const nothing = await bus.read('agent', { blockMs: 700 });
console.log(`blocked read returned ${nothing.length} deliveries after ${Date.now() - started} ms`);
await bus.deleteInbox('agent');
await bus.close();
console.log('closed');
