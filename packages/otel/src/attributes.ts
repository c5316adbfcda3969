import { redactText } from '@agentrix/core';

/** Default bound of a string attribute: long enough for a prompt excerpt, short enough for any backend. */
export const DEFAULT_MAX_ATTRIBUTE_LENGTH = 1024;

/** A string cut to `max` characters, with a marker saying how much was cut. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `…[${text.length - max} more]`;
  return text.slice(0, Math.max(0, max - marker.length)) + marker;
}

/** Content (a prompt, a completion, tool arguments) as an attribute: redacted of secrets, then bounded. */
export function contentAttribute(value: unknown, secrets: readonly string[], max: number): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return bounded(redactText(text, secrets), max);
}
