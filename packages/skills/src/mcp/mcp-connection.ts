import {
  AgentrixError,
  type AgentrixEvents,
  abortError,
  BACKGROUND_TIMER,
  backoffDelay,
  type Clock,
  type Logger,
  type RetryPolicy,
  serializeError,
  type TimerHandle,
} from '@agentrix/core';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  ElicitRequestSchema,
  type ElicitResult,
  ErrorCode,
  ListRootsRequestSchema,
  McpError,
  type Tool as McpTool,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpTransportKind } from '../events.js';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_RECONNECT_WAIT_MS, type McpServerOptions } from './mcp-server-options.js';
import { StderrTail } from './stderr-tail.js';

export type McpConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

/** What a connection needs from its manager. */
export interface McpConnectionDependencies {
  clock: Clock;
  events: AgentrixEvents;
  logger: Logger;
  clientInfo: { name: string; version: string };
  roots: readonly { uri: string; name?: string }[] | undefined;
  onElicitation: ((request: ElicitRequestParams, server: string) => Promise<ElicitResult>) | undefined;
  /** Called with the full tool list after every (re)connect and `list_changed`. */
  onTools(tools: McpTool[]): void;
  random: () => number;
}

export type ElicitRequestParams = Parameters<Parameters<Client['setRequestHandler']>[1]>[0]['params'];

const DEFAULT_RECONNECT: RetryPolicy = { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * One MCP server: connects, lists tools (again on `list_changed` and after a reconnect), calls
 * tools with a timeout, reconnects with backoff when the server dies, and closes for good.
 *
 * Process lifetime: the reconnect loop runs on background timers, so a server that is gone for
 * good never keeps a host process alive by itself. A call made while the server is reconnecting
 * waits for it under an ordinary timer (its wait deadline), which keeps the process alive while
 * that call is pending, and so lets the background reconnect timers fire.
 */
export class McpConnection {
  readonly options: McpServerOptions;
  readonly #deps: McpConnectionDependencies;
  readonly #reconnect: RetryPolicy;
  readonly #stderr: StderrTail;
  #client: Client | undefined;
  #transport: Transport | undefined;
  #state: McpConnectionState = 'connecting';
  /** Bumped per client: events of an old client are ignored. */
  #generation = 0;
  #attempt = 0;
  #timer: TimerHandle | undefined;
  #lastError: AgentrixError | undefined;
  #tools: McpTool[] = [];
  #closing: Promise<void> | undefined;
  /** Calls waiting for a reconnect: told when the state leaves `reconnecting`. */
  readonly #waiters = new Set<() => void>();

  constructor(options: McpServerOptions, deps: McpConnectionDependencies) {
    this.options = options;
    this.#deps = deps;
    this.#reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.#stderr = new StderrTail(options.transport === 'stdio' ? options.stderrTailChars : undefined);
  }

  get name(): string {
    return this.options.name;
  }

  get transportKind(): McpTransportKind {
    return this.options.transport;
  }

  get state(): McpConnectionState {
    return this.#state;
  }

  get lastError(): AgentrixError | undefined {
    return this.#lastError;
  }

  get tools(): readonly McpTool[] {
    return this.#tools;
  }

  /** The child's pid for stdio servers while connected. */
  get pid(): number | undefined {
    const transport = this.#transport;
    return transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  }

  /** The SDK client, while connected (escape hatch: resources, prompts, completions). */
  get client(): Client | undefined {
    return this.#state === 'connected' ? this.#client : undefined;
  }

  /** The first connect: throws a typed error (with the stderr tail of a stdio server) and does not retry. */
  async start(): Promise<void> {
    try {
      await this.#connect();
    } catch (error) {
      this.#state = 'failed';
      throw error;
    }
  }

  async callTool(
    name: string,
    args: unknown,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<CallToolResult> {
    const timeout = options.timeoutMs ?? this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (this.#state === 'reconnecting') {
      await this.#reconnected(
        name,
        Math.min(this.options.reconnectWaitMs ?? DEFAULT_RECONNECT_WAIT_MS, timeout),
        options.signal,
      );
    }
    const client = this.#client;
    if (this.#state !== 'connected' || !client) throw this.#unavailable(name);
    const generation = this.#generation;
    // A signal per call: the SDK leaves its abort listener on the signal it is given, and a
    // turn's signal outlives many calls.
    const outer = options.signal;
    const controller = outer ? new AbortController() : undefined;
    const forward = () => controller?.abort(outer?.reason);
    outer?.addEventListener('abort', forward, { once: true });
    const request = () =>
      client.callTool({ name, arguments: (args ?? {}) as Record<string, unknown> }, undefined, {
        timeout,
        ...(controller ? { signal: controller.signal } : {}),
      });
    try {
      const result = await this.#withAuthorization(this.#transport, request);
      if ('toolResult' in result && !('content' in result)) {
        return { content: [{ type: 'text', text: JSON.stringify(result.toolResult) }] };
      }
      return result as CallToolResult;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw this.#callFailure(error, name, timeout, generation);
    } finally {
      outer?.removeEventListener('abort', forward);
    }
  }

  /**
   * The typed error for a failed call: refused (auth or the server's own error), timed out, or
   * lost with the connection, which starts the reconnect.
   */
  #callFailure(error: unknown, name: string, timeout: number, generation: number): AgentrixError {
    if (error instanceof UnauthorizedError) {
      return new AgentrixError('AUTH_FAILED', `MCP server "${this.name}" refused tool "${name}": ${error.message}`, {
        cause: error,
        toolName: name,
        retryable: false,
        details: { server: this.name },
      });
    }
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return new AgentrixError(
        'TOOL_TIMEOUT',
        `Tool "${name}" of MCP server "${this.name}" did not answer within ${timeout} ms`,
        { cause: error, toolName: name, details: { server: this.name } },
      );
    }
    if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
      return new AgentrixError('TOOL_FAILED', `MCP server "${this.name}" refused tool "${name}": ${error.message}`, {
        cause: error,
        toolName: name,
        retryable: false,
        details: { server: this.name, mcpCode: error.code },
      });
    }
    // The connection broke under the call (a dead server, a refused HTTP request).
    this.#lost(generation, error);
    return this.#unavailable(name, error);
  }

  /** Closes the client (and the child process of a stdio server) and stops reconnecting. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closed';
      this.#generation++;
      if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#wakeWaiters();
      await this.#dispose();
    })();
    return this.#closing;
  }

  /**
   * Waits until the reconnect ends (then the caller finds the state it ended in), at most
   * `waitMs`. Rejects with the turn's abort when `signal` fires, and with a `TOOL_FAILED` when the
   * wait runs out: not retryable, as a retry would only wait again.
   */
  #reconnected(tool: string, waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal, `call of MCP tool "${tool}"`));
    if (!(waitMs > 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(done);
        this.#deps.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const woken = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(abortError(signal as AbortSignal, `call of MCP tool "${tool}"`));
      };
      // Something awaits this deadline: an ordinary timer, it keeps the process alive meanwhile.
      const timer = this.#deps.clock.setTimeout(() => {
        done();
        const error = this.#unavailable(tool);
        reject(
          new AgentrixError('TOOL_FAILED', `${error.message} (waited ${waitMs} ms for the reconnect)`, {
            toolName: tool,
            retryable: false,
            details: { server: this.name, state: this.#state, waitedMs: waitMs },
          }),
        );
      }, waitMs);
      this.#waiters.add(woken);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #wakeWaiters(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #unavailable(tool: string, cause?: unknown): AgentrixError {
    const why = this.#lastError ? ` (${this.#lastError.message})` : '';
    return new AgentrixError(
      'TOOL_FAILED',
      `MCP server "${this.name}" is ${this.#state === 'connected' ? 'unreachable' : this.#state}${why}; tool "${tool}" cannot run now. It may work again after the server is back.`,
      {
        toolName: tool,
        retryable: this.#state !== 'closed' && this.#state !== 'failed',
        cause,
        details: { server: this.name, state: this.#state },
      },
    );
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    this.#stderr.clear();
    let client = this.#createClient(generation);
    let transport = this.#createTransport();
    this.#client = client;
    this.#transport = transport;
    const timeout = this.options.connectTimeoutMs ?? 30_000;
    try {
      try {
        await client.connect(transport, { timeout });
      } catch (error) {
        // OAuth authorization-code flow: the provider redirected; finish it and connect again.
        await this.#finishAuthorization(error, transport);
        await client.close().catch(() => {});
        client = this.#createClient(generation);
        transport = this.#createTransport();
        this.#client = client;
        this.#transport = transport;
        await client.connect(transport, { timeout });
      }
      if (generation !== this.#generation)
        throw new AgentrixError('CLOSED', `MCP server "${this.name}" was closed while connecting`);
      const listed = client;
      const tools = listed.getServerCapabilities()?.tools
        ? await this.#withAuthorization(transport, () => this.#listTools(listed, timeout))
        : [];
      if (generation !== this.#generation)
        throw new AgentrixError('CLOSED', `MCP server "${this.name}" was closed while connecting`);
      this.#tools = tools;
      const reconnected = this.#state === 'reconnecting';
      this.#state = 'connected';
      this.#lastError = undefined;
      const attempt = this.#attempt + 1;
      const fields = { server: this.name, transport: this.transportKind, tools: tools.length };
      if (reconnected) this.#deps.logger.info({ ...fields, attempt: this.#attempt }, 'MCP server reconnected');
      else this.#deps.logger.info(fields, 'MCP server connected');
      this.#attempt = 0;
      this.#deps.onTools(tools);
      this.#wakeWaiters();
      this.#deps.events.emit('mcp.connected', {
        server: this.name,
        transport: this.transportKind,
        tools: tools.length,
        attempt,
      });
    } catch (error) {
      if (generation === this.#generation) await this.#dispose();
      throw this.#startError(error);
    }
  }

  #createClient(generation: number): Client {
    const capabilities: NonNullable<ClientOptions['capabilities']> = {};
    if (this.#deps.roots) capabilities.roots = { listChanged: true };
    if (this.#deps.onElicitation) capabilities.elicitation = { form: { applyDefaults: true } };
    const client = new Client(this.#deps.clientInfo, {
      capabilities,
      listChanged: {
        tools: {
          onChanged: (error, tools) => {
            if (generation !== this.#generation || this.#state !== 'connected') return;
            if (error || !tools) {
              this.#deps.events.emit('mcp.disconnected', { server: this.name, error: serializeError(error) });
              return;
            }
            this.#tools = tools;
            this.#deps.onTools(tools);
          },
        },
      },
    });
    const roots = this.#deps.roots;
    if (roots) client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: roots.map((root) => ({ ...root })) }));
    const onElicitation = this.#deps.onElicitation;
    if (onElicitation)
      client.setRequestHandler(ElicitRequestSchema, (request) => onElicitation(request.params, this.name));
    client.onclose = () => this.#lost(generation, new Error('connection closed'));
    return client;
  }

  #createTransport(): Transport {
    const options = this.options;
    if (options.transport === 'stdio') {
      const transport = new StdioClientTransport({
        command: options.command,
        args: [...(options.args ?? [])],
        env: { ...getDefaultEnvironment(), ...options.env },
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer | string) => {
        const text = chunk.toString();
        this.#stderr.push(text);
        if (this.#deps.events.has('mcp.stderr')) this.#deps.events.emit('mcp.stderr', { server: this.name, text });
      });
      return transport;
    }
    const url = new URL(options.url);
    const common = {
      ...(options.headers ? { requestInit: { headers: options.headers } } : {}),
      ...(options.authProvider ? { authProvider: options.authProvider } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    };
    return options.transport === 'sse'
      ? new SSEClientTransport(url, common)
      : new StreamableHTTPClientTransport(url, common);
  }

  /**
   * Runs `request`; when the server asks for (more) authorization mid-session (OAuth step-up:
   * 403 insufficient_scope) and the provider was redirected, finishes the flow with the code and
   * runs it again, once.
   */
  async #withAuthorization<T>(transport: Transport | undefined, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      await this.#finishAuthorization(error, transport);
      return await request();
    }
  }

  /**
   * Finishes the OAuth authorization-code flow that `error` (the SDK's `UnauthorizedError`) asks
   * for, with the code from `authorizationCode`; any other error, or no way to get a code, is rethrown.
   */
  async #finishAuthorization(error: unknown, transport: Transport | undefined): Promise<void> {
    const options = this.options;
    if (!(error instanceof UnauthorizedError) || options.transport === 'stdio' || !options.authorizationCode) {
      throw error;
    }
    const code = await options.authorizationCode();
    await (transport as StreamableHTTPClientTransport | SSEClientTransport).finishAuth(code);
  }

  async #listTools(client: Client, timeout: number): Promise<McpTool[]> {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, { timeout });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /** The connection of `generation` broke: schedule a reconnect (unless closing or already on it). */
  #lost(generation: number, error: unknown): void {
    // Only a live connection can be lost; failures while connecting are handled by the connect.
    if (generation !== this.#generation || this.#state !== 'connected') return;
    this.#generation++;
    const reason = this.#stderr.toString().trim();
    this.#lastError = new AgentrixError(
      'TOOL_FAILED',
      `MCP server "${this.name}" disconnected${error instanceof Error ? `: ${error.message}` : ''}${reason ? `; stderr: ${tail(reason)}` : ''}`,
      { cause: error, retryable: true, details: { server: this.name } },
    );
    this.#state = 'reconnecting';
    const serialized = serializeError(this.#lastError);
    this.#deps.logger.warn(
      { server: this.name, transport: this.transportKind, error: serialized },
      'MCP server disconnected; reconnecting',
    );
    this.#deps.events.emit('mcp.disconnected', { server: this.name, error: serialized });
    void this.#dispose();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#state !== 'reconnecting') return;
    if (this.#attempt >= this.#reconnect.attempts) {
      this.#state = 'failed';
      this.#deps.logger.error(
        {
          server: this.name,
          attempt: this.#attempt,
          ...(this.#lastError ? { error: serializeError(this.#lastError) } : {}),
        },
        'MCP server did not come back; gave up reconnecting',
      );
      this.#wakeWaiters();
      return;
    }
    this.#attempt++;
    const delayMs = backoffDelay(this.#attempt, this.#reconnect, this.#deps.random);
    this.#deps.logger.info({ server: this.name, attempt: this.#attempt, delayMs }, 'MCP reconnect scheduled');
    this.#deps.events.emit('mcp.reconnecting', {
      server: this.name,
      attempt: this.#attempt,
      delayMs,
      ...(this.#lastError ? { error: serializeError(this.#lastError) } : {}),
    });
    // Background: nobody awaits the loop itself (a waiting call holds its own ordinary timer), so
    // a server that is gone for good does not keep the host process alive.
    this.#timer = this.#deps.clock.setTimeout(
      () => {
        this.#timer = undefined;
        if (this.#state !== 'reconnecting') return;
        const attempt = this.#attempt;
        this.#connect().catch((error: unknown) => {
          if (this.#state !== 'reconnecting') return;
          this.#lastError = AgentrixError.isInstance(error) ? error : this.#startError(error);
          this.#deps.logger.warn(
            { server: this.name, attempt, code: this.#lastError.code, error: serializeError(this.#lastError) },
            'MCP reconnect attempt failed',
          );
          this.#schedule();
        });
      },
      delayMs,
      BACKGROUND_TIMER,
    );
  }

  async #dispose(): Promise<void> {
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    if (client) {
      client.onclose = undefined;
      await client.close().catch(() => {});
    } else {
      await transport?.close().catch(() => {});
    }
  }

  #startError(error: unknown): AgentrixError {
    if (AgentrixError.isInstance(error)) return error;
    const stderr = this.#stderr.toString().trim();
    const what =
      this.options.transport === 'stdio'
        ? `"${[this.options.command, ...(this.options.args ?? [])].join(' ')}"`
        : String(this.options.url);
    const message = error instanceof Error ? error.message : String(error);
    return new AgentrixError(
      'TOOL_FAILED',
      `MCP server "${this.name}" (${this.transportKind} ${what}) failed to start: ${message}.${
        stderr ? ` Its stderr ends with:\n${tail(stderr)}` : ''
      }\nCheck the command, its arguments and that the server runs on its own.`,
      {
        cause: error,
        retryable: false,
        details: { server: this.name, transport: this.transportKind, ...(stderr ? { stderrTail: tail(stderr) } : {}) },
      },
    );
  }
}

function tail(text: string, max = 2_000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}
