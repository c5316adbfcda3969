/// <reference lib="dom" />
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { ApiError } from './api.js';

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : error.name;
  return html`<p class="error" role="alert"><b>${code}</b> ${error.message}</p>`;
}

/** A page's body once its data is there: the error, a loading line, or the content. */
export function Loading({
  error,
  loading,
  children,
}: {
  error: Error | undefined;
  loading: boolean;
  children?: ComponentChildren;
}) {
  if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND') {
    return html`<p class="muted">Not configured on this server (${error.message}).</p>`;
  }
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (loading && children === undefined) return html`<p class="muted">Loading…</p>`;
  return html`${children}`;
}

export function StateBadge({ state }: { state: string }) {
  return html`<span class=${`badge state-${state}`}>${state}</span>`;
}

/** A horizontal meter: spent (solid) and reserved (hatched) against a limit. */
export function Meter({ spent, reserved = 0, limit }: { spent: number; reserved?: number; limit: number }) {
  const share = (value: number) => `${Math.min(100, limit > 0 ? (value / limit) * 100 : 100).toFixed(1)}%`;
  const over = spent + reserved >= limit;
  return html`<span class=${over ? 'meter over' : 'meter'} title=${`${spent} spent, ${reserved} reserved of ${limit}`}>
    <span class="spent" style=${{ width: share(spent) }}></span>
    <span class="reserved" style=${{ width: share(reserved) }}></span>
  </span>`;
}

export function Empty({ children }: { children?: ComponentChildren }) {
  return html`<p class="muted empty">${children}</p>`;
}
