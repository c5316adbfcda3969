import { AgentrixError, AgentrixEvents, type Clock, type Logger, silentLogger, systemClock } from '@agentrix/core';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, ElicitResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { McpTransportKind } from '../events.js';
import { SkillRegistry } from '../skill-registry.js';
import { type ElicitRequestParams, McpConnection, type McpConnectionState } from './mcp-connection.js';
import { type McpServerOptions, SERVER_NAME } from './mcp-server-options.js';
import { mcpToolSkill } from './mcp-tool-skill.js';
import { disambiguate, namespacedToolName } from './tool-names.js';

export interface McpClientManagerOptions {
  /** Where the servers' tools are registered as skills. Default: a new registry. */
  registry?: SkillRegistry;
  /** Where `mcp.*` events (and a default registry's `skill.*`) go. Default: the given registry's, else a new `AgentrixEvents`. */
  events?: AgentrixEvents;
  /** How the client introduces itself. Default `{ name: 'agentrix', version: '0.1.0' }`. */
  clientInfo?: { name: string; version: string };
  /** Roots offered to servers that ask (`roots/list`). Default: none (the capability is not declared). */
  roots?: readonly { uri: string; name?: string }[];
  /** Answers servers' `elicitation/create` requests (defaults in the schema are applied). Default: not declared. */
  onElicitation?: (request: ElicitRequestParams, server: string) => Promise<ElicitResult>;
  /**
   * Connects and reconnects (info), disconnects and failed reconnect attempts (warn), a server
   * given up on (error); fields `server`, `transport`, `attempt`, `delayMs`, `code`, `error`.
   * Default: silent.
   */
  logger?: Logger;
  clock?: Clock;
  /** Jitter source of the reconnect backoff. Default `Math.random`. */
  random?: () => number;
}

/** What {@link McpClientManager.status} reports about one server. */
export interface McpServerStatus {
  name: string;
  transport: McpTransportKind;
  state: McpConnectionState;
  /** Registered skill names, by original tool name. */
  tools: Record<string, string>;
  lastError?: string;
  /** The child's pid (stdio, while connected). */
  pid?: number;
}

/**
 * Connects to MCP servers over stdio, streamable HTTP and SSE, and keeps their tools registered
 * as skills named `<server>__<tool>`: refreshed on `list_changed` and after reconnects,
 * unregistered when a server is removed. When a server dies it is reconnected with backoff; a
 * call meanwhile waits for the reconnect (up to `reconnectWaitMs`), then is a tool error (the
 * agent keeps running). `close()` leaves no child process.
 */
export class McpClientManager {
  readonly registry: SkillRegistry;
  readonly events: AgentrixEvents;
  readonly #connections = new Map<string, McpConnection>();
  /** Registered skill name by server, then by original tool name. */
  readonly #names = new Map<string, Map<string, string>>();
  readonly #options: McpClientManagerOptions;
  readonly #clock: Clock;
  #closing: Promise<void> | undefined;

  constructor(options: McpClientManagerOptions = {}) {
    this.#options = options;
    this.events = options.events ?? options.registry?.events ?? new AgentrixEvents();
    this.registry = options.registry ?? new SkillRegistry({ events: this.events });
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Connects to a server and registers its tools. A server that cannot start is an
   * `AgentrixError` (`TOOL_FAILED`, with the tail of a stdio server's stderr) and leaves nothing behind.
   */
  async add(options: McpServerOptions): Promise<McpServerStatus> {
    if (this.#closing) throw new AgentrixError('CLOSED', 'The MCP client manager is closed');
    if (!SERVER_NAME.test(options.name)) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Invalid MCP server name "${options.name}": expected 1-32 letters, digits, "_" or "-"`,
      );
    }
    if (options.reconnectWaitMs !== undefined && !(options.reconnectWaitMs >= 0)) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Invalid reconnectWaitMs for MCP server "${options.name}": expected 0 or more milliseconds, got ${String(options.reconnectWaitMs)}`,
      );
    }
    if (this.#connections.has(options.name)) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `An MCP server named "${options.name}" is already added; remove it first`,
      );
    }
    const connection = new McpConnection(options, {
      clock: this.#clock,
      events: this.events,
      logger: this.#options.logger ?? silentLogger,
      clientInfo: this.#options.clientInfo ?? { name: 'agentrix', version: '0.1.0' },
      roots: this.#options.roots,
      onElicitation: this.#options.onElicitation,
      random: this.#options.random ?? Math.random,
      onTools: (tools) => this.#sync(connection, tools),
    });
    this.#connections.set(options.name, connection);
    this.#names.set(options.name, new Map());
    try {
      await connection.start();
    } catch (error) {
      this.#connections.delete(options.name);
      this.#unregisterAll(options.name);
      await connection.close();
      throw error;
    }
    return this.status(options.name);
  }

  /** Disconnects a server and unregisters its skills. */
  async remove(name: string): Promise<void> {
    const connection = this.#require(name);
    this.#connections.delete(name);
    this.#unregisterAll(name);
    await connection.close();
  }

  status(name: string): McpServerStatus {
    const connection = this.#require(name);
    const pid = connection.pid;
    return {
      name,
      transport: connection.transportKind,
      state: connection.state,
      tools: Object.fromEntries(this.#names.get(name) ?? []),
      ...(connection.lastError ? { lastError: connection.lastError.message } : {}),
      ...(pid !== undefined ? { pid } : {}),
    };
  }

  servers(): McpServerStatus[] {
    return [...this.#connections.keys()].map((name) => this.status(name));
  }

  /** Calls a tool by its original name, bypassing the registry (and the executor). */
  callTool(
    server: string,
    tool: string,
    args: Record<string, unknown> = {},
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<CallToolResult> {
    return this.#require(server).callTool(tool, args, options);
  }

  /** The SDK client of a connected server, for resources, prompts and completions. */
  client(server: string): Client {
    const connection = this.#require(server);
    const client = connection.client;
    if (!client) {
      throw new AgentrixError('TOOL_FAILED', `MCP server "${server}" is ${connection.state}`, {
        retryable: connection.state === 'reconnecting',
        details: { server },
      });
    }
    return client;
  }

  /** Closes every server (children exit) and unregisters their skills. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const connections = [...this.#connections.values()];
      this.#connections.clear();
      for (const connection of connections) this.#unregisterAll(connection.name);
      await Promise.allSettled(connections.map((connection) => connection.close()));
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #require(name: string): McpConnection {
    const connection = this.#connections.get(name);
    if (connection) return connection;
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `No MCP server named "${name}". Servers: ${[...this.#connections.keys()].join(', ') || 'none'}`,
    );
  }

  /** Makes the registry match the server's tool list; emits `mcp.tools-changed` on a difference. */
  #sync(connection: McpConnection, tools: readonly McpTool[]): void {
    const server = connection.name;
    if (this.#connections.get(server) !== connection) return;
    const names = this.#names.get(server)!;
    const { include, exclude } = connection.options;
    const wanted = tools.filter((tool) => (!include || include.includes(tool.name)) && !exclude?.includes(tool.name));
    const added: string[] = [];
    const removed: string[] = [];
    const keep = new Set(wanted.map((tool) => tool.name));
    for (const [tool, name] of [...names]) {
      if (keep.has(tool)) continue;
      this.registry.unregister(name);
      names.delete(tool);
      removed.push(name);
    }
    const prefix = connection.options.prefix ?? server;
    for (const tool of wanted) {
      let name = names.get(tool.name);
      if (name === undefined) {
        const own = new Set(names.values());
        name = disambiguate(
          namespacedToolName(prefix, tool.name),
          `${server}/${tool.name}`,
          (candidate) => own.has(candidate) || this.registry.has(candidate),
        );
        names.set(tool.name, name);
        added.push(name);
      }
      this.registry.register(mcpToolSkill(name, tool, connection), { replace: true });
    }
    if ((added.length > 0 || removed.length > 0) && this.events.has('mcp.tools-changed')) {
      this.events.emit('mcp.tools-changed', { server, added, removed });
    }
  }

  #unregisterAll(server: string): void {
    const names = this.#names.get(server);
    if (!names) return;
    for (const name of names.values()) this.registry.unregister(name);
    this.#names.delete(server);
  }
}
