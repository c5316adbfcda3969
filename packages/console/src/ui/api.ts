/// <reference lib="dom" />
import { getToken, markTokenRequired } from './token.js';

/** An error answer of the server: `{ error: { code, message } }` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * URLs are relative to the page (`api/agents`, not `/api/agents`) so the console works when the
 * server is mounted under a prefix.
 */
export function apiUrl(path: string): string {
  return new URL(path, document.baseURI).toString();
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  accept?: string;
}

/** Sends a request with the token; resolves with the response when it is 2xx, else throws {@link ApiError}. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...authHeaders() };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const init: RequestInit = { method: options.method ?? 'GET', headers };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal) init.signal = options.signal;
  const response = await fetch(apiUrl(path), init);
  if (response.ok) return response;
  throw await errorOf(response);
}

/** A JSON request: `api('api/agents')`, `api('api/agents/a/pause', { method: 'POST' })`. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(path, options);
  return (await response.json()) as T;
}

export async function errorOf(response: Response): Promise<ApiError> {
  if (response.status === 401) markTokenRequired();
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}

/** Path segment escaping for ids that come from the server. */
export const segment = encodeURIComponent;
