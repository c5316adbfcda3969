import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentrixEvents, type ChatModel } from '@agentrix/core';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import type { McpClientManager } from '@agentrix/skills';
import { MockLLM, type MockRequest } from '@agentrix/testing';

/**
 * An agent whose tools come from two MCP servers started from npm packages:
 * server-everything (`everything__get-sum`, `everything__echo`, ...) and server-filesystem on a
 * temporary directory (`fs__write_file`, `fs__read_text_file`, ...). `createAgentrix` starts the
 * servers and runs their tools through its one `SkillExecutor`, like any local tool: timeouts,
 * retries, approvals and idempotency keys apply to them too.
 */
export interface McpToolsDemo {
  agentrix: Agentrix;
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
  // Given to createAgentrix so the servers' `mcp.connected` events, sent while it starts them, are seen.
  const events = new AgentrixEvents();
  events.on('mcp.connected', ({ server, transport, tools }) =>
    log(`connected to ${server} over ${transport}: ${tools} tools`),
  );
  events.on('tool.called', ({ toolCall }) => log(`⚙ ${toolCall.name} ${toolCall.arguments}`));
  let agentrix: Agentrix;
  try {
    agentrix = await createAgentrix({
      events,
      model: options.model ?? scriptedModel(directory),
      mcp: {
        servers: [
          {
            name: 'everything',
            transport: 'stdio',
            command: process.execPath,
            args: [serverPath('server-everything')],
          },
          {
            name: 'fs',
            transport: 'stdio',
            command: process.execPath,
            args: [serverPath('server-filesystem'), directory],
          },
        ],
      },
    });
  } catch (error) {
    // createAgentrix has already stopped any server it started.
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  await agentrix.create({
    id: 'clerk',
    instructions: 'You do arithmetic with everything__get-sum and keep notes with the fs__ tools.',
    tools: ['everything__get-sum', 'everything__echo', 'fs__write_file', 'fs__read_text_file', 'fs__list_directory'],
  });
  return {
    agentrix,
    mcp: agentrix.mcp as McpClientManager,
    directory,
    async close() {
      // Stops the agent, then the servers createAgentrix started.
      await agentrix.close();
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
