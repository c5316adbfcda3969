// A plain host script: createAgentrix with a PGlite directory store and an MCP stdio server, one
// ask, then close. Nothing it opened may keep the process alive: it must exit by itself. With
// FAIL=1 a later step (memory) fails after the store and the server were opened, and the process
// must exit by itself just the same.
import { createRequire } from 'node:module';
import { AgentrixError } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';

const server = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
const model = new MockLLM({
  script: [{ toolCalls: [{ name: 'everything__get-sum', arguments: { a: 19, b: 23 } }] }, { text: 'added' }],
});
let closedAt = 0;
process.on('exit', () =>
  console.log(`EXIT ${closedAt === 0 ? 'without close' : `${Date.now() - closedAt} ms after close`}`),
);

try {
  await using agentrix = await createAgentrix({
    model,
    store: process.env.STORE_DIRECTORY as string,
    mcp: { servers: [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [server] }] },
    ...(process.env.FAIL === '1' ? { memory: { maxTextLength: 10 } } : {}),
  });
  await agentrix.create({ id: 'clerk', tools: ['everything__get-sum'] });
  const reply = await agentrix.ask('clerk', 'add 19 and 23');
  const sum = model.requests[1]?.messages.at(-1)?.content;
  console.log(`RESULT ${reply.content}: ${sum}`);
} catch (error) {
  console.log(`FAILED ${AgentrixError.isInstance(error) ? error.code : String(error)}`);
} finally {
  closedAt = Date.now();
}
