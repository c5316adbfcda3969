import { startMcpToolsDemo } from './agent.js';

// An agent using tools of two MCP servers (server-everything and server-filesystem) on the
// scripted mock model. Run: pnpm --filter @agentrix/example-mcp-tools start
const demo = await startMcpToolsDemo({ log: (line) => console.log(line) });
try {
  const reply = await demo.agentrix.ask('clerk', 'Add 19 and 23 and keep a note of it.');
  console.log(`\nclerk: ${reply.content}`);
  for (const server of demo.mcp.servers())
    console.log(`${server.name}: ${server.state}, ${Object.keys(server.tools).length} tools`);
} finally {
  await demo.close();
}
