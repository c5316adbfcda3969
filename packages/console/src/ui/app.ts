/// <reference lib="dom" />
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { useApi, useLiveStatus, useReloadOn, useRoute } from './hooks.js';
import { liveEvents } from './live-events.js';
import { AgentsPage } from './pages/agents.js';
import { ApprovalsPage } from './pages/approvals.js';
import { EventsPage } from './pages/events.js';
import { HqPage } from './pages/hq.js';
import { McpPage } from './pages/mcp.js';
import { QueuesPage } from './pages/queues.js';
import { SpendPage } from './pages/spend.js';
import { ThreadPage } from './pages/thread.js';
import { clearToken, getToken, onTokenChange, setToken, tokenRequired } from './token.js';
import type { Approval } from './types.js';

const PAGES = [
  ['agents', 'Agents'],
  ['spend', 'Spend'],
  ['queues', 'Queues'],
  ['hq', 'HQ'],
  ['approvals', 'Approvals'],
  ['mcp', 'MCP'],
  ['events', 'Events'],
] as const;

export function App() {
  const route = useRoute();
  const [needsToken, setNeedsToken] = useState(tokenRequired());
  const [hasToken, setHasToken] = useState(getToken() !== undefined);
  useEffect(() => {
    liveEvents.start();
    const off = onTokenChange(() => {
      setNeedsToken(tokenRequired());
      setHasToken(getToken() !== undefined);
    });
    return () => {
      off();
      liveEvents.stop();
    };
  }, []);
  const page = route[0] ?? 'agents';
  return html`<div class="layout">
    <header>
      <a class="brand" href="#/agents">Agentrix</a>
      <nav>${PAGES.map(
        ([id, label]) =>
          html`<a href=${`#/${id}`} class=${page === id ? 'active' : ''}>${label}${id === 'approvals' && html`<${PendingCount} />`}</a>`,
      )}</nav>
      <${LiveIndicator} />
      ${hasToken && html`<button class="link" onClick=${clearToken}>Forget token</button>`}
    </header>
    <main>
      ${needsToken ? html`<${TokenForm} />` : html`<${Page} route=${route} />`}
    </main>
  </div>`;
}

function Page({ route }: { route: string[] }) {
  const [page = 'agents', id, sub, threadId] = route;
  switch (page) {
    case 'agents':
      if (id)
        return html`<${ThreadPage} key=${id} agentId=${id} threadId=${sub === 'threads' && threadId ? threadId : 'main'} />`;
      return html`<${AgentsPage} />`;
    case 'spend':
      return html`<${SpendPage} />`;
    case 'queues':
      return html`<${QueuesPage} />`;
    case 'hq':
      return html`<${HqPage} />`;
    case 'approvals':
      return html`<${ApprovalsPage} />`;
    case 'mcp':
      return html`<${McpPage} />`;
    case 'events':
      return html`<${EventsPage} />`;
    default:
      return html`<p>No page <code>${page}</code>. <a href="#/agents">Agents</a></p>`;
  }
}

function PendingCount() {
  const approvals = useApi<{ approvals: Approval[] }>('api/approvals');
  useReloadOn(['approval.*'], approvals.reload);
  const count = approvals.data?.approvals.length ?? 0;
  return count > 0 ? html` <span class="count" data-pending=${count}>${count}</span>` : null;
}

function LiveIndicator() {
  const status = useLiveStatus();
  return html`<span class=${`live ${status}`} data-live=${status} title="live event stream">● ${status}</span>`;
}

function TokenForm() {
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const token = String(new FormData(event.target as HTMLFormElement).get('token') ?? '').trim();
    if (token) setToken(token);
  };
  return html`<form class="card form token" onSubmit=${submit}>
    <h1>Token required</h1>
    <p>This server wants a bearer token. It is kept in this tab only (sessionStorage).</p>
    ${getToken() !== undefined && html`<p class="error" role="alert">The token was refused.</p>`}
    <label>Token <input name="token" type="password" autocomplete="off" required autofocus /></label>
    <div><button type="submit" class="primary">Continue</button></div>
  </form>`;
}
