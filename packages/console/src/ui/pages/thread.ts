/// <reference lib="dom" />
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { segment } from '../api.js';
import { askStreamed, type StreamedTurn } from '../ask-stream.js';
import { ErrorNote, Loading, StateBadge } from '../components.js';
import { prettyArguments, time } from '../format.js';
import { useAction, useApi, useLive, useReloadOn } from '../hooks.js';
import type { Agent, ChatMessage, ThreadSummary, ToolCall } from '../types.js';

export function ThreadPage({ agentId, threadId }: { agentId: string; threadId: string }) {
  const agent = useApi<{ agent: Agent }>(`api/agents/${segment(agentId)}`);
  const threads = useApi<{ threads: ThreadSummary[] }>(`api/agents/${segment(agentId)}/threads`);
  const [state, setState] = useState<string | undefined>();
  useLive(['agent.state'], (event) => {
    if (event.data.agentId === agentId) setState(event.data.to);
  });
  useReloadOn(['turn.completed'], threads.reload);
  const current = state ?? agent.data?.agent.state;
  return html`<section class="thread-page">
    <h1>
      <a href="#/agents">Agents</a> / ${agent.data?.agent.name ?? agentId}
      ${current && html` <${StateBadge} state=${current} />`}
    </h1>
    <${ErrorNote} error=${agent.error} />
    <div class="split">
      <nav class="threads">
        <h2>Threads</h2>
        <${Loading} error=${threads.error} loading=${threads.loading}>
          <ul>
            ${threads.data?.threads.map(
              (thread) => html`<li class=${thread.threadId === threadId ? 'active' : ''}>
                <a href=${`#/agents/${segment(agentId)}/threads/${segment(thread.threadId)}`}>${thread.threadId}</a>
                <small class="muted"> ${thread.turns} turns · ${time(thread.updatedAt)}</small>
              </li>`,
            )}
          </ul>
        <//>
        <${NewThread} agentId=${agentId} />
      </nav>
      <${Conversation} key=${threadId} agentId=${agentId} threadId=${threadId} onTurn=${threads.reload} />
    </div>
  </section>`;
}

function NewThread({ agentId }: { agentId: string }) {
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const id = String(new FormData(event.target as HTMLFormElement).get('thread') ?? '').trim();
    if (id) location.hash = `#/agents/${segment(agentId)}/threads/${segment(id)}`;
  };
  return html`<form class="inline" onSubmit=${submit}><input name="thread" placeholder="new thread id" /> <button>Open</button></form>`;
}

function Conversation({ agentId, threadId, onTurn }: { agentId: string; threadId: string; onTurn: () => void }) {
  const thread = useApi<{ thread: { messages: ChatMessage[] } }>(
    `api/agents/${segment(agentId)}/threads/${segment(threadId)}`,
  );
  const [streaming, setStreaming] = useState<StreamedTurn | undefined>();
  const [sent, setSent] = useState<string | undefined>();
  const action = useAction();
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView?.({ block: 'end' }), [thread.data, streaming]);

  const send = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const content = String(new FormData(form).get('content') ?? '').trim();
    if (!content) return;
    form.reset();
    setSent(content);
    setStreaming({ text: '', tools: [] });
    void action.run(async () => {
      try {
        const turn = await askStreamed(agentId, { content, threadId }, setStreaming);
        if (turn.error) throw Object.assign(new Error(turn.error.message), { name: turn.error.code });
      } finally {
        // The stored thread now holds the turn: show it instead of the streamed copy.
        thread.reload();
        onTurn();
        setSent(undefined);
        setStreaming(undefined);
      }
    });
  };

  // A thread that does not exist yet is an empty conversation: the first message creates it.
  const missing = thread.error && 'code' in thread.error && thread.error.code === 'THREAD_NOT_FOUND';
  const messages = thread.data?.thread.messages ?? [];
  return html`<div class="conversation">
    <h2>Thread ${threadId}</h2>
    ${!missing && html`<${ErrorNote} error=${thread.error} />`}
    <div class="messages">
      ${messages.map((message, index) => html`<${Message} key=${index} message=${message} />`)}
      ${sent !== undefined && html`<div class="message user"><div class="who">you</div><div class="text">${sent}</div></div>`}
      ${streaming && html`<${Streaming} turn=${streaming} />`}
      <div ref=${end}></div>
    </div>
    <form class="composer" onSubmit=${send}>
      <textarea name="content" rows="2" placeholder=${`Message ${agentId}…`} onKeyDown=${submitOnEnter}></textarea>
      <button type="submit" disabled=${action.busy}>Send</button>
    </form>
    <${ErrorNote} error=${action.error} />
  </div>`;
}

function submitOnEnter(event: KeyboardEvent) {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    (event.target as HTMLTextAreaElement).form?.requestSubmit();
  }
}

function Message({ message }: { message: ChatMessage }) {
  if (message.role === 'tool') {
    return html`<div class=${`message tool ${message.isError ? 'failed' : ''}`}>
      <div class="who">${message.name} →</div><pre class="text">${message.content}</pre>
    </div>`;
  }
  const who = message.role === 'user' ? (message.name ?? 'user') : message.role;
  return html`<div class=${`message ${message.role}`}>
    <div class="who">${who}</div>
    ${message.content && html`<div class="text">${message.content}</div>`}
    ${message.role === 'assistant' && message.toolCalls?.map((call) => html`<${ToolChip} call=${call} />`)}
  </div>`;
}

function ToolChip({ call, done }: { call: ToolCall; done?: { isError: boolean; durationMs: number } | undefined }) {
  const status = done === undefined ? 'running' : done.isError ? 'failed' : 'ok';
  return html`<div class=${`tool-call ${status}`} data-tool=${call.name}>
    <b>${call.name}</b> <code>${prettyArguments(call.arguments)}</code>
    ${done && html` <small>${done.isError ? 'failed' : 'done'} in ${done.durationMs} ms</small>`}
  </div>`;
}

function Streaming({ turn }: { turn: StreamedTurn }) {
  return html`<div class="message assistant streaming" aria-live="polite">
    <div class="who">assistant</div>
    ${turn.tools.map((tool) => html`<${ToolChip} call=${tool.call} done=${tool.done} />`)}
    <div class="text" data-testid="streamed">${turn.text}<span class="cursor">▍</span></div>
  </div>`;
}
