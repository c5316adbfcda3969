/// <reference lib="dom" />
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, segment } from '../api.js';
import { SpendChart } from '../chart.js';
import { ErrorNote, Loading, Meter } from '../components.js';
import { amount, time, usd, utcDay } from '../format.js';
import { useAction, useApi, useReloadOn } from '../hooks.js';
import type { Agent, BudgetStatus, DailyReport, LedgerRecord } from '../types.js';

const DAYS = 7;

export function SpendPage() {
  const agents = useApi<{ agents: Agent[] }>('api/agents');
  const budgets = useApi<{ budgets: BudgetStatus[] }>('api/gateway/budgets');
  const ledger = useApi<{ records: LedgerRecord[]; total: number }>('api/gateway/ledger?limit=20');
  const [reports, setReports] = useState<DailyReport[] | undefined>();
  const [reportError, setReportError] = useState<Error | undefined>();
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const days = Array.from({ length: DAYS }, (_, index) => utcDay(DAYS - 1 - index));
    Promise.all(days.map((day) => api<DailyReport>(`api/gateway/report?day=${day}`))).then(setReports, setReportError);
  }, [generation]);
  useReloadOn(['model.responded', 'budget.*', 'gateway.*'], () => {
    budgets.reload();
    ledger.reload();
    setGeneration((value) => value + 1);
  });

  const agentIds = [
    ...new Set([
      ...(agents.data?.agents.map((agent) => agent.id) ?? []),
      ...(reports ?? []).flatMap((report) => Object.keys(report.byAgent)),
    ]),
  ];
  return html`<section>
    <h1>Spend</h1>
    <h2>Per agent, last ${DAYS} days (UTC), against the daily budget</h2>
    <${Loading} error=${reportError ?? agents.error} loading=${reports === undefined}>
      ${
        reports &&
        html`<table class="spend">
        <thead><tr><th>Agent</th><th>Per day</th><th>Today</th><th>Daily budget</th></tr></thead>
        <tbody>
          ${agentIds.map((agentId) => {
            const agent = agents.data?.agents.find((candidate) => candidate.id === agentId);
            const daily = tightest(agent?.budgets ?? []);
            const bars = reports.map((report) => ({ day: report.day, value: report.byAgent[agentId]?.costUsd ?? 0 }));
            return html`<tr data-spend=${agentId}>
              <td><a href=${`#/agents/${segment(agentId)}`}>${agentId}</a></td>
              <td><${SpendChart} bars=${bars} budget=${daily?.limit} /></td>
              <td class="num">${usd(bars.at(-1)?.value ?? 0)}</td>
              <td>${daily ? html`<${Meter} spent=${daily.spent} reserved=${daily.reserved} limit=${daily.limit} /> ${usd(daily.limit)}` : html`<span class="muted">none</span>`}</td>
            </tr>`;
          })}
        </tbody>
      </table>
      <p class="muted">Total today: ${usd(reports.at(-1)?.total.costUsd ?? 0)} in ${reports.at(-1)?.total.calls ?? 0} calls.</p>`
      }
    <//>

    <h2>Budgets</h2>
    <${Loading} error=${budgets.error} loading=${budgets.loading}>
      ${
        budgets.data &&
        html`<table>
        <thead><tr><th>Budget</th><th>Period</th><th>Spent</th><th>Reserved</th><th>Limit</th><th></th><th>Change limit</th></tr></thead>
        <tbody>${budgets.data.budgets.map((budget) => html`<${BudgetRow} key=${budget.budget} budget=${budget} onChange=${budgets.reload} />`)}</tbody>
      </table>`
      }
    <//>

    <h2>Ledger (latest)</h2>
    <${Loading} error=${ledger.error} loading=${ledger.loading}>
      ${
        ledger.data &&
        html`<table>
        <thead><tr><th>When</th><th>Agent</th><th>Model</th><th>In</th><th>Out</th><th>Cost</th><th>Latency</th><th>Notes</th></tr></thead>
        <tbody>${ledger.data.records.map(
          (record) => html`<tr>
            <td>${time(record.at)}</td><td>${record.agentId ?? ''}</td><td>${record.model}</td>
            <td class="num">${record.inputTokens}</td><td class="num">${record.outputTokens}</td>
            <td class="num">${usd(record.costUsd)}</td><td class="num">${record.latencyMs} ms</td><td>${notes(record)}</td>
          </tr>`,
        )}</tbody>
      </table>
      <p class="muted">${ledger.data.total} records in all.</p>`
      }
    <//>
  </section>`;
}

function BudgetRow({ budget, onChange }: { budget: BudgetStatus; onChange: () => void }) {
  const action = useAction();
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const limit = Number(new FormData(event.target as HTMLFormElement).get('limit'));
    if (!Number.isFinite(limit) || limit < 0) return;
    void action.run(() =>
      api(`api/gateway/budgets/${segment(budget.budget)}`, { method: 'PUT', body: { [budget.unit]: limit } }).then(
        onChange,
      ),
    );
  };
  return html`<tr>
    <td><code>${budget.budget}</code></td><td>${budget.period}</td>
    <td class="num">${amount(budget.spent, budget.unit)}</td><td class="num">${amount(budget.reserved, budget.unit)}</td>
    <td class="num">${amount(budget.limit, budget.unit)}</td>
    <td><${Meter} spent=${budget.spent} reserved=${budget.reserved} limit=${budget.limit} /></td>
    <td><form class="inline" onSubmit=${submit}>
      <input name="limit" type="number" min="0" step="any" value=${budget.limit} aria-label="new limit" />
      <button disabled=${action.busy}>Set</button>
    </form><${ErrorNote} error=${action.error} /></td>
  </tr>`;
}

/** The daily USD budget that leaves the agent the least (the one that stops it first). */
function tightest(budgets: BudgetStatus[]): BudgetStatus | undefined {
  return budgets
    .filter((budget) => budget.period === 'day' && budget.unit === 'usd')
    .sort((a, b) => a.remaining - b.remaining)[0];
}

function notes(record: LedgerRecord): string {
  const notes: string[] = [];
  if (record.error) notes.push(record.error.code);
  if (record.cacheHit) notes.push('cache hit');
  if (record.degradedFrom) notes.push(`degraded from ${record.degradedFrom}`);
  if (record.estimated) notes.push('estimated');
  return notes.join(', ');
}
