// Test support (not exported): requests against a server in process, through `fetch` only.
import type { AgentrixServer } from './create-server.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(
  server: { fetch(request: Request): Response | Promise<Response> } | AgentrixServer,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string>; base?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await server.fetch(
    new Request(`${options.base ?? 'http://localhost'}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    }),
  );
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The SSE messages in a text: `{ id, event, data }` (data parsed as JSON). */
export function parseSse(text: string): { id?: string; event: string; data: unknown }[] {
  const out: { id?: string; event: string; data: unknown }[] = [];
  for (const block of text.split('\n\n')) {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) continue;
    out.push({ ...(id !== undefined ? { id } : {}), event, data: JSON.parse(data.join('\n')) });
  }
  return out;
}

/** Reads an SSE stream until `until` says stop (or `timeoutMs`), then cancels it. */
export async function readSse(
  stream: ReadableStream<Uint8Array>,
  until: (messages: ReturnType<typeof parseSse>) => boolean,
  timeoutMs = 5_000,
): Promise<ReturnType<typeof parseSse>> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: condition not met in ${timeoutMs} ms; got ${text.slice(0, 2_000)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const next = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), left);
        }),
      ]);
      clearTimeout(timer);
      if (next === 'timeout') continue;
      if (next.done) return parseSse(text);
      text += decoder.decode(next.value, { stream: true });
      const messages = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
      if (until(messages)) return messages;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
