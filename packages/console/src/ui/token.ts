/// <reference lib="dom" />
// The bearer token lives in sessionStorage: it survives a reload but not the tab, and it is
// never put in a URL (the live stream sends it as a header too, see live-events.ts).

const KEY = 'agentrix.token';
const listeners = new Set<() => void>();
let required = false;

export function getToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
  required = false;
  notify();
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  notify();
}

/** True after the server refused a request (401) until a token is set. */
export function tokenRequired(): boolean {
  return required;
}

export function markTokenRequired(): void {
  if (required) return;
  required = true;
  notify();
}

/** Calls `listener` whenever the token or the "required" flag changes; returns the unsubscribe. */
export function onTokenChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}
