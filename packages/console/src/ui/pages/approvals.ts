/// <reference lib="dom" />
import { html } from 'htm/preact';
import { api, segment } from '../api.js';
import { Empty, ErrorNote, Loading } from '../components.js';
import { json } from '../format.js';
import { useAction, useApi, useReloadOn } from '../hooks.js';
import type { Approval } from '../types.js';

export function ApprovalsPage() {
  const approvals = useApi<{ approvals: Approval[] }>('api/approvals');
  useReloadOn(['approval.*'], approvals.reload);
  return html`<section>
    <h1>Approvals</h1>
    <${Loading} error=${approvals.error} loading=${approvals.loading}>
      ${approvals.data?.approvals.length === 0 && html`<${Empty}>Nothing waits for a decision.<//>`}
      ${approvals.data?.approvals.map((approval) => html`<${ApprovalCard} key=${approval.id} approval=${approval} onDone=${approvals.reload} />`)}
    <//>
  </section>`;
}

function ApprovalCard({ approval, onDone }: { approval: Approval; onDone: () => void }) {
  const action = useAction();
  const decide = (outcome: 'approve' | 'reject') =>
    action.run(async () => {
      const body = outcome === 'reject' ? { reason: prompt('Reason?') ?? undefined, by: 'console' } : { by: 'console' };
      await api(`api/approvals/${segment(approval.id)}/${outcome}`, { method: 'POST', body });
      onDone();
    });
  return html`<div class="card approval" data-approval=${approval.id}>
    <h3><code>${approval.skill}</code> for <a href=${`#/agents/${segment(approval.agentId)}`}>${approval.agentId}</a></h3>
    <pre>${json(approval.input)}</pre>
    <button class="primary" disabled=${action.busy} onClick=${() => decide('approve')}>Approve</button>
    <button class="danger" disabled=${action.busy} onClick=${() => decide('reject')}>Reject</button>
    <${ErrorNote} error=${action.error} />
  </div>`;
}
