import { AgentrixError } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { z } from 'zod';
import { type DispatchJobInput, DispatchJobInputSchema } from './dispatch-types.js';
import type { JobSource } from './dispatcher.js';

export interface HttpJobSourceOptions {
  /** GET returns a JSON array of jobs (`{ id, payload?, conditions?, expiresAt? }`) or `{ jobs: [...] }`. */
  url: string;
  headers?: Record<string, string>;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

const ResponseSchema = z.union([z.array(DispatchJobInputSchema), z.object({ jobs: z.array(DispatchJobInputSchema) })]);

/** A {@link JobSource} that fetches jobs from an HTTP endpoint. */
export class HttpJobSource implements JobSource {
  readonly #options: HttpJobSourceOptions;

  constructor(options: HttpJobSourceOptions) {
    try {
      new URL(options?.url);
    } catch {
      throw invalidArgument(
        `HttpJobSource needs an absolute url, like "https://example.com/jobs"; got ${JSON.stringify(options?.url)}`,
      );
    }
    this.#options = options;
  }

  async fetch(options: { signal?: AbortSignal } = {}): Promise<DispatchJobInput[]> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const fetcher = this.#options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetcher(this.#options.url, {
        headers: { accept: 'application/json', ...this.#options.headers },
        signal,
      });
    } catch (error) {
      const code = timeout.aborted ? 'TIMEOUT' : options.signal?.aborted ? 'ABORTED' : 'INTERNAL';
      throw new AgentrixError(code, `Could not fetch jobs from ${this.#options.url}: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
      });
    }
    if (!response.ok) {
      throw new AgentrixError('INTERNAL', `Fetching jobs from ${this.#options.url} returned HTTP ${response.status}`, {
        retryable: response.status >= 500 || response.status === 429,
        details: { status: response.status },
      });
    }
    const parsed = ResponseSchema.safeParse(await response.json());
    if (!parsed.success) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Jobs from ${this.#options.url} do not match [{ id, payload?, conditions?, expiresAt? }]: ${parsed.error.message}`,
      );
    }
    const jobs = Array.isArray(parsed.data) ? parsed.data : parsed.data.jobs;
    return jobs;
  }
}
