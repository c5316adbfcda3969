/// <reference lib="dom" />
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, segment } from '../api.js';
import { Empty, ErrorNote, Loading, StateBadge } from '../components.js';
import { time, usd } from '../format.js';
import { useAction, useApi, useReloadOn } from '../hooks.js';
import type { HqGoal, HqReport, HqTask } from '../types.js';

export function HqPage() {
  const report = useApi<{ report: HqReport }>('api/hq/report');
  const reports = useApi<{ reports: HqReport[] }>('api/hq/reports');
  const reload = () => {
    report.reload();
    reports.reload();
  };
  useReloadOn(['job.*', 'turn.completed'], reload);
  const action = useAction();
  const post = (path: string, body: unknown = {}) => action.run(() => api(path, { method: 'POST', body }).then(reload));
  const current = report.data?.report;
  return html`<section>
    <h1>HQ</h1>
    <${Loading} error=${report.error} loading=${report.loading}>
      ${
        current &&
        html`<div class="toolbar">
          ${current.paused ? html`<${StateBadge} state="paused" /> <button onClick=${() => post('api/hq/resume')}>Resume HQ</button>` : html`<${StateBadge} state="running" /> <button onClick=${() => post('api/hq/pause')}>Pause HQ</button>`}
          <button onClick=${() => post('api/hq/tick')}>Tick now</button>
          <span class="muted">Tasks: ${current.tasks.done} done · ${current.tasks.inProgress} in progress · ${current.tasks.failed} failed
          ${current.spend && html` · today ${usd(current.spend.totalUsd)}`}</span>
        </div>
        <${ErrorNote} error=${action.error} />
        <${GoalForm} onCreated=${reload} />
        <h2>Goals</h2>
        ${current.goals.length === 0 && html`<${Empty}>No goals yet.<//>`}
        ${current.goals.map((goal) => html`<${Goal} key=${goal.id} goal=${goal} />`)}
        <${AgentBudgets} budgets=${current.agentBudgets} onChange=${reload} />`
      }
    <//>
    ${
      reports.data &&
      html`<h2>Daily reports</h2>
      ${reports.data.reports.length === 0 && html`<${Empty}>No report yet (one is made on each tick).<//>`}
      <table>
        <thead><tr><th>At</th><th>Goals</th><th>Done</th><th>In progress</th><th>Failed</th><th>Spend</th></tr></thead>
        <tbody>${reports.data.reports.map(
          (entry) => html`<tr>
            <td>${time(entry.generatedAt)}</td><td class="num">${entry.goals.length}</td><td class="num">${entry.tasks.done}</td>
            <td class="num">${entry.tasks.inProgress}</td><td class="num">${entry.tasks.failed}</td>
            <td class="num">${entry.spend ? usd(entry.spend.totalUsd) : ''}</td>
          </tr>`,
        )}</tbody>
      </table>`
    }
  </section>`;
}

function GoalForm({ onCreated }: { onCreated: () => void }) {
  const action = useAction();
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const goal = String(data.get('goal') ?? '').trim();
    if (!goal) return;
    void action.run(async () => {
      await api('api/hq/strategic-goal', {
        method: 'POST',
        body: { goal, priority: Number(data.get('priority') || 0) },
      });
      form.reset();
      onCreated();
    });
  };
  return html`<form class="card form" onSubmit=${submit}>
    <h2>New strategic goal</h2>
    <label>Goal <textarea name="goal" rows="2" required></textarea></label>
    <label>Priority <input name="priority" type="number" value="0" /></label>
    <div><button type="submit" disabled=${action.busy}>Submit to the architect</button></div>
    <${ErrorNote} error=${action.error} />
  </form>`;
}

function Goal({ goal }: { goal: HqGoal }) {
  const [open, setOpen] = useState(false);
  return html`<div class="card goal" data-goal=${goal.id}>
    <h3>
      <button class="link" onClick=${() => setOpen(!open)}>${open ? '▾' : '▸'}</button>
      ${goal.text} <${StateBadge} state=${goal.status} />
    </h3>
    <p class="muted">priority ${goal.priority} · ${goal.tasks.done} done, ${goal.tasks.inProgress} in progress, ${goal.tasks.failed} failed
      ${goal.deadline && html` · due ${time(goal.deadline)}`}${goal.error && html` · <span class="error">${goal.error}</span>`}</p>
    ${open && html`<${GoalTasks} goalId=${goal.id} />`}
  </div>`;
}

function GoalTasks({ goalId }: { goalId: string }) {
  const tasks = useApi<{ tasks: HqTask[] }>(`api/hq/goals/${segment(goalId)}`);
  useReloadOn(['job.*'], tasks.reload);
  return html`<${Loading} error=${tasks.error} loading=${tasks.loading}>
    <table>
      <thead><tr><th>Task</th><th>Role</th><th>Status</th><th>Agent</th><th>Result</th></tr></thead>
      <tbody>${tasks.data?.tasks.map(
        (task) => html`<tr>
          <td>${task.title}</td><td>${task.role ?? ''}</td><td><${StateBadge} state=${task.status} /></td>
          <td>${task.agentId ?? ''}</td><td>${task.result ?? (typeof task.lastError === 'string' ? task.lastError : (task.lastError?.message ?? ''))}</td>
        </tr>`,
      )}</tbody>
    </table>
  <//>`;
}

function AgentBudgets({ budgets, onChange }: { budgets: Record<string, number>; onChange: () => void }) {
  const action = useAction();
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const agentId = String(data.get('agentId') ?? '').trim();
    const text = String(data.get('usd') ?? '').trim();
    if (!agentId || text === '') return;
    void action.run(() =>
      api('api/hq/budget', { method: 'POST', body: { agentId, usdPerDay: Number(text) } }).then(onChange),
    );
  };
  return html`<h2>Daily budgets per agent</h2>
    <table><tbody>${Object.entries(budgets).map(([agentId, value]) => html`<tr><td>${agentId}</td><td class="num">${usd(value)} a day</td></tr>`)}</tbody></table>
    <form class="inline" onSubmit=${submit}>
      <input name="agentId" placeholder="agent id" required /> <input name="usd" type="number" min="0" step="any" placeholder="USD a day" required />
      <button disabled=${action.busy}>Set budget</button>
    </form>
    <${ErrorNote} error=${action.error} />`;
}
