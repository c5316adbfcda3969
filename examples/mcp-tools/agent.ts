import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatModel } from '@agentrix/core';
import { type AgentManager, createAgentrix } from '@agentrix/runtime';
import { McpClientManager, SkillRegistry, SkillsEvents } from '@agentrix/skills';
import { MockLLM, type MockRequest } from '@agentrix/testing';

/**
 * An agent whose tools come from two MCP servers started from npm packages:
 * server-everything (`everything__get-sum`, `everything__echo`, ...) and server-filesystem on a
 * temporary directory (`fs__write_file`, `fs__read_text_file`, ...).
 */
export interface McpToolsDemo {
  agentrix: AgentManager;
  mcp: McpClientManager;
  /** The directory the filesystem server may touch. */
  directory: string;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const serverPath = (name: string) => require.resolve(`@modelcontextprotocol/${name}/dist/index.js`);

export async function startMcpToolsDemo(
  options: { model?: ChatModel; log?: (line: string) => void } = {},
): Promise<McpToolsDemo> {
  const log = options.log ?? (() => {});
  const directory = await mkdtemp(join(tmpdir(), 'agentrix-mcp-tools-'));
  const events = new SkillsEvents();
  events.on('mcp.connected', ({ server, transport, tools }) =>
    log(`connected to ${server} over ${transport}: ${tools} tools`),
  );
  const registry = new SkillRegistry({ events });
  const mcp = new McpClientManager({ registry, events });
  try {
    await mcp.add({
      name: 'everything',
      transport: 'stdio',
      command: process.execPath,
      args: [serverPath('server-everything')],
    });
    await mcp.add({
      name: 'fs',
      transport: 'stdio',
      command: process.execPath,
      args: [serverPath('server-filesystem'), directory],
    });
  } catch (error) {
    await mcp.close();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  // Skills are tools: the runtime can run them as they are. (With the SkillExecutor wired into
  // the runtime, tools that appear later through list_changed show up too.)
  const agentrix = createAgentrix({ model: options.model ?? scriptedModel(directory), tools: registry.list() });
  agentrix.events.on('tool.called', ({ toolCall }) => log(`⚙ ${toolCall.name} ${toolCall.arguments}`));
  await agentrix.create({
    id: 'clerk',
    instructions: 'You do arithmetic with everything__get-sum and keep notes with the fs__ tools.',
    tools: ['everything__get-sum', 'everything__echo', 'fs__write_file', 'fs__read_text_file', 'fs__list_directory'],
  });
  return {
    agentrix,
    mcp,
    directory,
    async close() {
      await agentrix.close();
      await mcp.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The mock model's script: add, write the sum to a file, read it back, answer. */
function scriptedModel(directory: string): MockLLM {
  const file = join(directory, 'sum.txt');
  const lastTool = (request: MockRequest) => {
    const message = request.messages.at(-1);
    return message?.role === 'tool' ? message : undefined;
  };
  return new MockLLM({
    script: [
      { toolCalls: [{ name: 'everything__get-sum', arguments: { a: 19, b: 23 } }] },
      (request) => {
        const sum = /(\d+)\s*\.?$/.exec(lastTool(request)?.content ?? '')?.[1] ?? '?';
        return { toolCalls: [{ name: 'fs__write_file', arguments: { path: file, content: `19 + 23 = ${sum}\n` } }] };
      },
      { toolCalls: [{ name: 'fs__read_text_file', arguments: { path: file } }] },
      (request) => ({ text: `The note says: ${lastTool(request)?.content.trim()}` }),
    ],
  });
}
