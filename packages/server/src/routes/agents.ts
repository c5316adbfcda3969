import { AgentrixError } from '@agentrix/core';
import { upgradeContext } from '@agentrix/runtime';
import { route } from '../route.js';
import {
  AgentResponse,
  AgentsResponse,
  AskBody,
  CreateAgentBody,
  ListAgentsQuery,
  MessageResponse,
  ReplyResponse,
  SendBody,
  TerminateBody,
  ThreadResponse,
  ThreadsQuery,
  ThreadsResponse,
} from '../schemas.js';
import type { ServerContext } from '../server-context.js';
import { agentView } from './agent-view.js';
import { askStream } from './ask-stream.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

export function agentRoutes(context: ServerContext) {
  const { agentrix } = context;
  const view = (agentId: string) => agentView(agentrix, agentrix.get(agentId));
  return [
    route<undefined, { state?: string; role?: string }>({
      method: 'GET',
      path: '/api/agents',
      scope: 'read',
      tag: 'agents',
      summary: 'Agents with their state, turns, last error and budgets',
      query: ListAgentsQuery as never,
      response: AgentsResponse,
      handler: async ({ query }) => ({
        agents: await Promise.all(
          agentrix
            .list({
              ...(query.state !== undefined ? { state: query.state as never } : {}),
              ...(query.role !== undefined ? { role: query.role } : {}),
            })
            .map((info) => agentView(agentrix, info)),
        ),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/agents',
      scope: 'admin',
      tag: 'agents',
      summary: 'Create (and start) an agent',
      body: CreateAgentBody,
      response: AgentResponse,
      status: 201,
      handler: async ({ body }) => {
        const { start, ...spec } = body;
        const info = await agentrix.create(spec, start === undefined ? {} : { start });
        return { agent: await agentView(agentrix, info) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/agents/:id',
      scope: 'read',
      tag: 'agents',
      summary: 'One agent',
      response: AgentResponse,
      handler: async ({ params }) => ({ agent: await view(params.id!) }),
    }),
    route({
      method: 'POST',
      path: '/api/agents/:id/pause',
      scope: 'operate',
      tag: 'agents',
      summary: 'Pause an agent (a running turn finishes first)',
      response: AgentResponse,
      handler: async ({ params }) => {
        agentrix.pause(params.id!);
        return { agent: await view(params.id!) };
      },
    }),
    route({
      method: 'POST',
      path: '/api/agents/:id/resume',
      scope: 'operate',
      tag: 'agents',
      summary: 'Resume a paused or failed agent',
      response: AgentResponse,
      handler: async ({ params }) => {
        agentrix.resume(params.id!);
        return { agent: await view(params.id!) };
      },
    }),
    route({
      method: 'POST',
      path: '/api/agents/:id/terminate',
      scope: 'admin',
      tag: 'agents',
      summary: 'Terminate an agent (and its children)',
      body: TerminateBody,
      response: AgentResponse,
      handler: async ({ params, body }) => {
        agentrix.get(params.id!);
        await agentrix.terminate(params.id!, body.reason ?? 'terminated over the control API');
        return { agent: await view(params.id!) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/agents/:id/threads',
      scope: 'read',
      tag: 'agents',
      summary: 'Conversations of an agent, most recent first',
      query: ThreadsQuery,
      response: ThreadsResponse,
      handler: async ({ params, query }) => ({ threads: await agentrix.threads(params.id!, { limit: query.limit }) }),
    }),
    route({
      method: 'GET',
      path: '/api/agents/:id/threads/:threadId',
      scope: 'read',
      tag: 'agents',
      summary: 'One conversation and its messages',
      response: ThreadResponse,
      handler: async ({ params }) => {
        const { id, threadId } = params as { id: string; threadId: string };
        await agentrix.threads(id, { limit: 1 }); // AGENT_NOT_FOUND for an unknown agent
        const stored = await agentrix.contexts.store.load(id, threadId);
        if (!stored) {
          throw new AgentrixError('THREAD_NOT_FOUND', `Agent "${id}" has no thread "${threadId}"`, {
            agentId: id,
            details: { threadId },
          });
        }
        const { messages, turns, updatedAt } = upgradeContext(stored);
        return { thread: { threadId, turns, updatedAt, messages } };
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/agents/:id/threads/:threadId',
      scope: 'admin',
      tag: 'agents',
      summary: 'Forget a conversation',
      handler: async ({ params }) => {
        await agentrix.forget(params.id!, params.threadId!);
        return { forgotten: true };
      },
    }),
    route({
      method: 'POST',
      path: '/api/agents/:id/ask',
      scope: 'operate',
      tag: 'agents',
      summary:
        'Ask and wait for the reply; with `Accept: text/event-stream`, stream tokens, tool calls, then the reply',
      body: AskBody,
      response: ReplyResponse,
      sse: true,
      handler: async ({ params, body, request }) => {
        const agentId = params.id!;
        if (request.headers.get('accept')?.includes('text/event-stream')) {
          agentrix.get(agentId); // an unknown agent is a JSON 404, not a stream
          const stream = askStream(agentrix, agentId, body.content, {
            signal: request.signal,
            secrets: context.secrets,
            ...(body.threadId !== undefined ? { threadId: body.threadId } : {}),
            ...(body.timeoutMs !== undefined ? { timeoutMs: body.timeoutMs } : {}),
          });
          return new Response(stream, { headers: SSE_HEADERS });
        }
        const reply = await agentrix.ask(agentId, body.content, {
          signal: request.signal,
          ...(body.threadId !== undefined ? { threadId: body.threadId } : {}),
          ...(body.timeoutMs !== undefined ? { timeoutMs: body.timeoutMs } : {}),
        });
        return { reply };
      },
    }),
    route({
      method: 'POST',
      path: '/api/agents/:id/send',
      scope: 'operate',
      tag: 'agents',
      summary: 'Send a message without waiting for a reply',
      body: SendBody,
      response: MessageResponse,
      status: 202,
      handler: async ({ params, body }) => {
        const message = await agentrix.send({
          to: params.id!,
          content: body.content,
          ...(body.threadId !== undefined ? { threadId: body.threadId } : {}),
          ...(body.data !== undefined ? { data: body.data } : {}),
        });
        return { message };
      },
    }),
  ];
}
