/// <reference lib="dom" />
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { time } from '../format.js';
import { matches } from '../hooks.js';
import { liveEvents } from '../live-events.js';

/** The live stream as it arrives (the last 200 events), filterable by name. */
export function EventsPage() {
  const [, setCount] = useState(0);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    // One render per frame at most: a busy stream (thousands of tokens a second) must not re-render per event.
    let frame: number | undefined;
    const off = liveEvents.subscribe(() => {
      frame ??= requestAnimationFrame(() => {
        frame = undefined;
        setCount((count) => count + 1);
      });
    });
    return () => {
      off();
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, []);
  const patterns = filter
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const shown = liveEvents.recent
    .filter((event) => patterns.length === 0 || matches(event.name, patterns))
    .slice(-100)
    .reverse();
  return html`<section>
    <h1>Live events</h1>
    <input class="filter" placeholder="filter: agent.state, turn.*" value=${filter} onInput=${(event: InputEvent) => setFilter((event.target as HTMLInputElement).value)} />
    <table class="events">
      <thead><tr><th>#</th><th>At</th><th>Event</th><th>Payload</th></tr></thead>
      <tbody>${shown.map(
        (
          event,
        ) => html`<tr key=${event.id}><td class="num">${event.id}</td><td>${time(event.receivedAt)}</td><td><code>${event.name}</code></td>
          <td><code class="clip">${JSON.stringify(event.data)}</code></td></tr>`,
      )}</tbody>
    </table>
  </section>`;
}
