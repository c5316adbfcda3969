/// <reference lib="dom" />
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, segment } from '../api.js';
import { Empty, ErrorNote, Loading } from '../components.js';
import { json, time } from '../format.js';
import { useAction, useApi, useReloadOn } from '../hooks.js';
import type { DeadLetter, InboxStats, Job, ScheduleRecord, SerializedError } from '../types.js';

export function QueuesPage() {
  const inboxes = useApi<{ inboxes: InboxStats[] }>('api/bus/inboxes');
  const queues = useApi<{ queues: { queue: string; counts: Record<string, number> }[] }>('api/queues');
  const schedules = useApi<{
    schedules: ScheduleRecord[];
    recentTicks: { id: number; name: string; at: number; data: any }[];
  }>('api/schedules');
  useReloadOn(['message.*', 'turn.*'], inboxes.reload);
  useReloadOn(['job.*'], queues.reload);
  useReloadOn(['tick.*'], schedules.reload);
  // Kept here, not in the dead letters card: the card goes away once its inbox has none left.
  const [done, setDone] = useState<string | undefined>();
  const onDone = (note: string) => {
    setDone(note);
    inboxes.reload();
  };
  return html`<section>
    <h1>Queues</h1>
    <h2>Agent inboxes</h2>
    ${done && html`<p class="ok" role="status">${done}</p>`}
    <${Loading} error=${inboxes.error} loading=${inboxes.loading}>
      ${
        inboxes.data &&
        html`<table>
        <thead><tr><th>Inbox</th><th>Unread</th><th>In flight</th><th>Dead letters</th></tr></thead>
        <tbody>${inboxes.data.inboxes.map(
          (inbox) => html`<tr data-inbox=${inbox.inbox}>
            <td>${inbox.inbox}</td><td class="num">${inbox.unread}</td><td class="num">${inbox.inFlight}</td>
            <td class="num">${inbox.deadLetters}</td>
          </tr>`,
        )}</tbody>
      </table>
      ${inboxes.data.inboxes
        .filter((inbox) => inbox.deadLetters > 0)
        .map((inbox) => html`<${DeadLetters} key=${inbox.inbox} inbox=${inbox.inbox} onDone=${onDone} />`)}`
      }
    <//>

    <h2>Job queues</h2>
    <${Loading} error=${queues.error} loading=${queues.loading}>
      ${queues.data?.queues.length === 0 && html`<${Empty}>No job queues on this server.<//>`}
      ${queues.data?.queues.map((queue) => html`<${JobQueue} key=${queue.queue} queue=${queue.queue} counts=${queue.counts} onChange=${queues.reload} />`)}
    <//>

    <h2>Schedules</h2>
    <${Loading} error=${schedules.error} loading=${schedules.loading}>
      ${
        schedules.data &&
        html`<table>
        <thead><tr><th>Agent</th><th>Cron</th><th>Message</th><th>Last</th><th>Next</th></tr></thead>
        <tbody>${schedules.data.schedules.map(
          (schedule) => html`<tr>
            <td><a href=${`#/agents/${segment(schedule.agentId)}`}>${schedule.agentId}</a></td>
            <td><code>${schedule.cron}</code>${schedule.timezone ? ` ${schedule.timezone}` : ''}${schedule.paused ? ' (paused)' : ''}</td>
            <td>${schedule.content}</td><td>${time(schedule.lastRunAt)}</td><td>${time(schedule.nextRunAt)}</td>
          </tr>`,
        )}</tbody>
      </table>
      ${schedules.data.schedules.length === 0 && html`<${Empty}>No cron schedules.<//>`}
      ${
        schedules.data.recentTicks.length > 0 &&
        html`<h3>Recent ticks</h3><ul class="events">${schedules.data.recentTicks.map(
          (tick) => html`<li><code>${tick.name}</code> ${time(tick.at)} ${tick.data.agentId ?? ''}</li>`,
        )}</ul>`
      }`
      }
    <//>
  </section>`;
}

function DeadLetters({ inbox, onDone }: { inbox: string; onDone: (note: string) => void }) {
  const letters = useApi<{ deadLetters: DeadLetter[] }>(`api/bus/inboxes/${segment(inbox)}/dead-letters`);
  const action = useAction();
  /** Redrive (all, or the given message ids) or discard (the given message ids). */
  const act = (verb: 'redrive' | 'discard', ids?: string[]) =>
    action.run(async () => {
      const result = await api<{ redriven?: number; discarded?: number }>(
        `api/bus/inboxes/${segment(inbox)}/dead-letters/${verb}`,
        { method: 'POST', body: ids ? { ids } : {} },
      );
      letters.reload();
      onDone(
        verb === 'redrive'
          ? `${result.redriven} redriven from ${inbox}.`
          : `${result.discarded} discarded from ${inbox}.`,
      );
    });
  return html`<div class="card" data-dead-letters=${inbox}>
    <h3>Dead letters of ${inbox} <button disabled=${action.busy} onClick=${() => act('redrive')}>Redrive all</button></h3>
    <${ErrorNote} error=${action.error} />
    <${Loading} error=${letters.error} loading=${letters.loading}>
      <table>
        <thead><tr><th>Message</th><th>From</th><th>Content</th><th>Attempts</th><th>Error</th><th>Dead at</th><th></th></tr></thead>
        <tbody>${letters.data?.deadLetters.map(
          (letter) => html`<tr data-message=${letter.envelope.id}>
            <td><code>${letter.envelope.id}</code></td><td>${letter.envelope.from}</td><td>${letter.envelope.content}</td>
            <td class="num">${letter.attempts}</td><td>${errorText(letter.error)}</td><td>${time(letter.deadAt)}</td>
            <td class="actions">
              <button disabled=${action.busy} onClick=${() => act('redrive', [letter.envelope.id])}>Redrive</button>
              <button class="danger" disabled=${action.busy} onClick=${() => act('discard', [letter.envelope.id])}>Discard</button>
            </td>
          </tr>`,
        )}</tbody>
      </table>
    <//>
  </div>`;
}

const STATUSES = ['pending', 'running', 'done', 'failed', 'dead'];

function JobQueue({
  queue,
  counts,
  onChange,
}: {
  queue: string;
  counts: Record<string, number>;
  onChange: () => void;
}) {
  const [status, setStatus] = useState((counts.dead ?? 0) > 0 ? 'dead' : 'pending');
  const jobs = useApi<{ jobs: Job[] }>(`api/queues/${segment(queue)}/jobs?status=${status}&limit=50`);
  useReloadOn(['job.*'], jobs.reload);
  const action = useAction();
  const act = (job: Job, method: 'POST' | 'DELETE') =>
    action.run(async () => {
      const path = `api/queues/${segment(queue)}/jobs/${segment(job.id)}${method === 'POST' ? '/redrive' : ''}`;
      await api(path, { method });
      jobs.reload();
      onChange();
    });
  return html`<div class="card" data-queue=${queue}>
    <h3>${queue}</h3>
    <div class="tabs">${STATUSES.map(
      (name) =>
        html`<button class=${name === status ? 'active' : ''} onClick=${() => setStatus(name)}>${name} <b>${counts[name] ?? 0}</b></button>`,
    )}</div>
    <${ErrorNote} error=${action.error} />
    <${Loading} error=${jobs.error} loading=${jobs.loading}>
      ${jobs.data?.jobs.length === 0 && html`<${Empty}>No ${status} jobs.<//>`}
      ${
        (jobs.data?.jobs.length ?? 0) > 0 &&
        html`<table>
        <thead><tr><th>Job</th><th>Type</th><th>Attempts</th><th>Payload</th><th>Last error</th><th>Updated</th><th></th></tr></thead>
        <tbody>${jobs.data?.jobs.map(
          (job) => html`<tr data-job=${job.id}>
            <td><code>${job.id}</code></td><td>${job.type}</td><td class="num">${job.attempts}${job.maxAttempts ? `/${job.maxAttempts}` : ''}</td>
            <td><code class="clip">${json(job.payload)}</code></td><td>${errorText(job.lastError)}</td><td>${time(job.updatedAt)}</td>
            <td class="actions">${
              job.status === 'dead' &&
              html`
              <button disabled=${action.busy} onClick=${() => act(job, 'POST')}>Redrive</button>
              <button class="danger" disabled=${action.busy} onClick=${() => act(job, 'DELETE')}>Discard</button>`
            }</td>
          </tr>`,
        )}</tbody>
      </table>`
      }
    <//>
  </div>`;
}

function errorText(error: SerializedError | string | undefined): string {
  if (error === undefined) return '';
  return typeof error === 'string' ? error : `${error.code ? `${error.code}: ` : ''}${error.message}`;
}
