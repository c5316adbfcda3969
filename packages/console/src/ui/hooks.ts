/// <reference lib="dom" />
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, api } from './api.js';
import { type LiveEvent, type LiveStatus, liveEvents } from './live-events.js';
import { onTokenChange } from './token.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs `path` (none when `path` is undefined) and again on `reload()`, when the token changes and
 * when the live stream says events were missed. Keeps the last data while reloading, and drops
 * an answer that a newer request overtook.
 */
export function useApi<T>(path: string | undefined): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | Error | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: path !== undefined,
  });
  const generation = useRef(0);
  const load = useCallback(() => {
    if (path === undefined) return;
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    api<T>(path).then(
      (data) => {
        if (mine === generation.current) setState({ data, error: undefined, loading: false });
      },
      (error: Error) => {
        if (mine === generation.current) setState((previous) => ({ ...previous, error, loading: false }));
      },
    );
  }, [path]);
  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: path !== undefined });
    load();
    const offToken = onTokenChange(load);
    const offReset = liveEvents.onReset(load);
    return () => {
      generation.current++;
      offToken();
      offReset();
    };
  }, [load, path]);
  return { ...state, reload: load };
}

/** Matches an event name against `agent.state` or a `turn.*` prefix form. */
export function matches(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith('.*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern,
  );
}

/** Calls `listener` for each live event whose name matches one of `patterns`. */
export function useLive(patterns: readonly string[], listener: (event: LiveEvent) => void): void {
  const latest = useRef(listener);
  latest.current = listener;
  const key = patterns.join(',');
  useEffect(() => liveEvents.subscribe((event) => matches(event.name, key.split(',')) && latest.current(event)), [key]);
}

/** Calls `reload` (at most every 250 ms) after live events matching `patterns`: lists stay current without polling. */
export function useReloadOn(patterns: readonly string[], reload: () => void): void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useLive(patterns, () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      reload();
    }, 250);
  });
  useEffect(() => () => clearTimeout(timer.current), []);
}

export function useLiveStatus(): LiveStatus {
  const [status, setStatus] = useState(liveEvents.status);
  useEffect(() => liveEvents.onStatus(() => setStatus(liveEvents.status)), []);
  return status;
}

/** The hash route split in segments: `#/agents/a1/threads/main` -> `['agents', 'a1', 'threads', 'main']`. */
export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
}

/** Runs an action (a POST): tracks it as busy and keeps its error to show. */
export function useAction(): {
  busy: boolean;
  error: Error | undefined;
  run: (action: () => Promise<unknown>) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}
