/// <reference lib="dom" />
import { html } from 'htm/preact';
import { Empty, Loading, StateBadge } from '../components.js';
import { time } from '../format.js';
import { useApi, useReloadOn } from '../hooks.js';
import type { McpServer } from '../types.js';

type SkillSource = { kind: 'local' } | { kind: 'mcp'; server: string; tool: string };

interface Failure {
  id: number;
  name: string;
  at: number;
  data: any;
}

export function McpPage() {
  const servers = useApi<{ servers: McpServer[] }>('api/mcp');
  const skills = useApi<{
    skills: { name: string; description: string; source: SkillSource }[];
    recentFailures: Failure[];
  }>('api/skills');
  useReloadOn(['mcp.*'], servers.reload);
  useReloadOn(['skill.registered', 'skill.unregistered', 'tool.completed'], skills.reload);
  return html`<section>
    <h1>MCP servers</h1>
    <${Loading} error=${servers.error} loading=${servers.loading}>
      ${servers.data?.servers.length === 0 && html`<${Empty}>No MCP servers configured.<//>`}
      ${servers.data?.servers.map(
        (server) => html`<div class="card" data-mcp=${server.name}>
          <h3>${server.name} <${StateBadge} state=${server.state} /> <small class="muted">${server.transport}${server.pid ? ` · pid ${server.pid}` : ''}</small></h3>
          ${server.lastError && html`<p class="error">${server.lastError}</p>`}
          <p>${Object.keys(server.tools).length} tools: ${Object.entries(server.tools).map(([tool, skill]) => html`<code title=${skill}>${tool}</code> `)}</p>
          ${(server.recentFailures?.length ?? 0) > 0 && html`<h4>Recent failures</h4><${Failures} failures=${server.recentFailures} />`}
        </div>`,
      )}
    <//>
    <h1>Skills</h1>
    <${Loading} error=${skills.error} loading=${skills.loading}>
      ${
        skills.data &&
        html`<table>
        <thead><tr><th>Skill</th><th>Source</th><th>Description</th></tr></thead>
        <tbody>${skills.data.skills.map(
          (skill) =>
            html`<tr><td><code>${skill.name}</code></td><td>${skill.source.kind === 'mcp' ? `MCP ${skill.source.server}` : 'local'}</td><td>${skill.description}</td></tr>`,
        )}</tbody>
      </table>
      ${skills.data.recentFailures.length > 0 && html`<h2>Recent tool failures</h2><${Failures} failures=${skills.data.recentFailures} />`}`
      }
    <//>
  </section>`;
}

function Failures({ failures }: { failures: Failure[] }) {
  return html`<ul class="events">${failures.map(
    (
      failure,
    ) => html`<li>${time(failure.at)} <code>${failure.name}</code> ${failure.data?.name ?? failure.data?.server ?? ''}
      <span class="error">${failure.data?.error?.message ?? ''}</span></li>`,
  )}</ul>`;
}
