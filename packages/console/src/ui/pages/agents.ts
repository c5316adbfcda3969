/// <reference lib="dom" />
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, segment } from '../api.js';
import { ErrorNote, Loading, Meter, StateBadge } from '../components.js';
import { amount } from '../format.js';
import { useAction, useApi, useLive, useReloadOn } from '../hooks.js';
import type { Agent, AgentState } from '../types.js';

/** States seen on the live stream, newer than the last list fetched: applied at once, no refetch needed. */
type LiveStates = Record<string, { state: AgentState; at: number }>;

export function AgentsPage() {
  const list = useApi<{ agents: Agent[] }>('api/agents');
  const [live, setLive] = useState<LiveStates>({});
  const [fetchedAt, setFetchedAt] = useState(0);
  useLive(['agent.state'], (event) => {
    setLive((previous) => ({ ...previous, [event.data.agentId]: { state: event.data.to, at: event.receivedAt } }));
  });
  // Turns, errors and budgets change with turns: refetch after them (a state change alone is applied from the event).
  const reload = () => {
    setFetchedAt(Date.now());
    list.reload();
  };
  useReloadOn(['agent.created', 'turn.completed', 'turn.failed', 'gateway.*', 'budget.*'], reload);

  const agents = list.data?.agents;
  return html`<section>
    <h1>Agents</h1>
    <${Loading} error=${list.error} loading=${list.loading}>
      ${
        agents &&
        html`<table class="agents">
          <thead>
            <tr><th>Agent</th><th>Role</th><th>State</th><th>Turns</th><th>Budget</th><th>Last error</th><th></th></tr>
          </thead>
          <tbody>
            ${agents.map((agent) => {
              const seen = live[agent.id];
              const state = seen && seen.at >= fetchedAt ? seen.state : agent.state;
              return html`<${AgentRow} key=${agent.id} agent=${agent} state=${state} onChange=${reload} />`;
            })}
          </tbody>
        </table>`
      }
      ${agents?.length === 0 && html`<p class="muted">No agents yet.</p>`}
    <//>
    <${CreateAgent} onCreated=${reload} />
  </section>`;
}

function AgentRow({ agent, state, onChange }: { agent: Agent; state: AgentState; onChange: () => void }) {
  const action = useAction();
  const post = (verb: string) =>
    action.run(() => api(`api/agents/${segment(agent.id)}/${verb}`, { method: 'POST', body: {} }).then(onChange));
  // The budget that stops the agent first: the least remaining share of its limit.
  const budget = [...agent.budgets].sort((a, b) => a.remaining / a.limit - b.remaining / b.limit)[0];
  return html`<tr data-agent=${agent.id} data-state=${state}>
    <td><a href=${`#/agents/${segment(agent.id)}`}><b>${agent.name}</b></a>${agent.name !== agent.id && html` <small class="muted">${agent.id}</small>`}</td>
    <td>${agent.role ?? ''}</td>
    <td><${StateBadge} state=${state} />${agent.pause && html` <small class="muted">(${agent.pause.kind})</small>`}</td>
    <td class="num">${agent.turns}</td>
    <td>${budget && html`<${Meter} spent=${budget.spent} reserved=${budget.reserved} limit=${budget.limit} /> <small title=${budget.budget}>${amount(budget.spent, budget.unit)} / ${amount(budget.limit, budget.unit)} a ${budget.period}</small>`}</td>
    <td class="error-cell">${agent.lastError && html`<code>${agent.lastError.code}</code> ${agent.lastError.message}`}</td>
    <td class="actions">
      ${state === 'paused' ? html`<button disabled=${action.busy} onClick=${() => post('resume')}>Resume</button>` : html`<button disabled=${action.busy || state === 'terminated'} onClick=${() => post('pause')}>Pause</button>`}
      <button class="danger" disabled=${action.busy || state === 'terminated'} onClick=${() => confirm(`Terminate ${agent.id}?`) && post('terminate')}>Terminate</button>
      <${ErrorNote} error=${action.error} />
    </td>
  </tr>`;
}

function CreateAgent({ onCreated }: { onCreated: () => void }) {
  const action = useAction();
  const [open, setOpen] = useState(false);
  if (!open) return html`<p><button onClick=${() => setOpen(true)}>New agent…</button></p>`;
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    const spec = {
      id: text('id'),
      name: text('name') ?? text('id'),
      role: text('role'),
      instructions: text('instructions'),
      start: true,
    };
    void action.run(async () => {
      await api('api/agents', { method: 'POST', body: spec });
      setOpen(false);
      onCreated();
    });
  };
  return html`<form class="card form" onSubmit=${submit}>
    <h2>New agent</h2>
    <label>Id <input name="id" required pattern="[A-Za-z0-9_.:-]+" /></label>
    <label>Name <input name="name" /></label>
    <label>Role <input name="role" /></label>
    <label>Instructions <textarea name="instructions" rows="3"></textarea></label>
    <div><button type="submit" disabled=${action.busy}>Create</button> <button type="button" onClick=${() => setOpen(false)}>Cancel</button></div>
    <${ErrorNote} error=${action.error} />
  </form>`;
}
