export function usd(value: number): string {
  if (value === 0) return '$0';
  return value < 0.01 ? `$${value.toPrecision(2)}` : `$${value.toFixed(2)}`;
}

export function amount(value: number, unit: 'usd' | 'tokens'): string {
  return unit === 'usd' ? usd(value) : `${Math.round(value).toLocaleString('en')} tok`;
}

export function time(epochMs: number | string | undefined): string {
  if (epochMs === undefined) return '';
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? String(epochMs) : date.toISOString().replace('T', ' ').slice(0, 19);
}

/** `YYYY-MM-DD` (UTC) of `days` days before today: the gateway's days are UTC days. */
export function utcDay(daysAgo = 0, now = Date.now()): string {
  return new Date(now - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

export function json(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? '';
  } catch {
    return String(value);
  }
}

/** Tool-call arguments arrive as raw JSON text: pretty-print when they parse. */
export function prettyArguments(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}
