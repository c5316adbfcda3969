import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentrixError } from '@agentrix/core';
import { type Agentrix, type AgentrixOptions, createAgentrix } from '@agentrix/runtime';
import { createServer } from './create-server.js';
import { isLoopback } from './listen.js';
import type { CreateServerOptions, ServerToken } from './server-options.js';

/**
 * What a host module exports (as `default`, or as `agentrix`): `createAgentrix` options, an
 * `Agentrix`, a {@link HostSetup}, or a function (maybe async) returning any of these.
 */
export interface HostSetup extends Omit<CreateServerOptions, 'tokens' | 'console'> {
  /** Called on shutdown instead of `agentrix.close()` (close the HQ, queues, databases you opened). */
  close?: () => Promise<void> | void;
}

const USAGE = `Usage:
  agentrix dev <host-module> [--port 4111] [--host 127.0.0.1] [--no-console]
  agentrix serve <host-module> [--port 4111] [--host 0.0.0.0] [--no-console]

The host module exports (default, or "agentrix") createAgentrix options, an Agentrix, or
{ agentrix, hq?, queues?, schedulers?, close? }, or a function returning one of these.
dev listens on loopback only; tokens are optional (AGENTRIX_*_TOKEN as for serve).
serve needs at least one of AGENTRIX_ADMIN_TOKEN, AGENTRIX_OPERATE_TOKEN, AGENTRIX_READ_TOKEN.`;

interface CliArguments {
  command: 'dev' | 'serve';
  file: string;
  port: number;
  host: string;
  console: boolean;
}

export function parseArguments(argv: readonly string[]): CliArguments {
  const [command, file, ...rest] = argv;
  if ((command !== 'dev' && command !== 'serve') || !file || file.startsWith('-')) {
    throw new AgentrixError('INVALID_ARGUMENT', USAGE);
  }
  const parsed: CliArguments = {
    command,
    file,
    port: 4111,
    host: command === 'dev' ? '127.0.0.1' : '0.0.0.0',
    console: true,
  };
  for (let index = 0; index < rest.length; index++) {
    const flag = rest[index];
    if (flag === '--no-console') parsed.console = false;
    else if (flag === '--port' || flag === '--host') {
      const value = rest[++index];
      if (value === undefined) throw new AgentrixError('INVALID_ARGUMENT', `${flag} needs a value\n\n${USAGE}`);
      if (flag === '--host') parsed.host = value;
      else {
        parsed.port = Number(value);
        if (!Number.isInteger(parsed.port) || parsed.port < 0 || parsed.port > 65_535) {
          throw new AgentrixError('INVALID_ARGUMENT', `--port must be 0-65535, got "${value}"`);
        }
      }
    } else throw new AgentrixError('INVALID_ARGUMENT', `Unknown option "${flag}"\n\n${USAGE}`);
  }
  if (parsed.command === 'dev' && !isLoopback(parsed.host)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `agentrix dev listens on loopback only; use agentrix serve for ${parsed.host}`,
    );
  }
  return parsed;
}

/** Tokens from AGENTRIX_ADMIN_TOKEN / AGENTRIX_OPERATE_TOKEN / AGENTRIX_READ_TOKEN. */
export function tokensFromEnvironment(env: NodeJS.ProcessEnv): ServerToken[] {
  const tokens: ServerToken[] = [];
  for (const scope of ['admin', 'operate', 'read'] as const) {
    const token = env[`AGENTRIX_${scope.toUpperCase()}_TOKEN`];
    if (token) tokens.push({ token, scope, name: scope });
  }
  return tokens;
}

async function loadHost(file: string): Promise<HostSetup> {
  const path = resolve(file);
  if (/\.[mc]?tsx?$/.test(path)) await registerTypeScript();
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  let exported = module.default ?? module.agentrix;
  if (exported === undefined) {
    throw new AgentrixError('INVALID_ARGUMENT', `${file} exports neither a default nor "agentrix"\n\n${USAGE}`);
  }
  if (typeof exported === 'function') exported = await (exported as () => unknown)();
  if (isAgentrix(exported)) return { agentrix: exported };
  if (typeof exported === 'object' && exported !== null && isAgentrix((exported as HostSetup).agentrix)) {
    return exported as HostSetup;
  }
  if (typeof exported === 'object' && exported !== null) {
    return { agentrix: await createAgentrix(exported as AgentrixOptions) };
  }
  throw new AgentrixError('INVALID_ARGUMENT', `${file} exports ${typeof exported}, not an Agentrix setup\n\n${USAGE}`);
}

function isAgentrix(value: unknown): value is Agentrix {
  return typeof (value as Agentrix | undefined)?.list === 'function' && typeof (value as Agentrix).ask === 'function';
}

/** A .ts host module needs a loader: tsx's, when it is installed and Node was not started with one. */
async function registerTypeScript(): Promise<void> {
  if (process.execArgv.some((argument) => argument.includes('tsx'))) return;
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      'A TypeScript host module needs tsx: `npm i -D tsx`, or run `node --import tsx node_modules/.bin/agentrix ...`',
    );
  }
}

async function consoleDirectory(): Promise<string | undefined> {
  try {
    const { consoleAssetsDir } = (await import('@agentrix/console')) as { consoleAssetsDir: string };
    return consoleAssetsDir;
  } catch {
    return undefined;
  }
}

/**
 * Runs `agentrix dev` / `agentrix serve`: loads the host module, serves it, and on SIGINT or
 * SIGTERM closes the server, then the host (or its agentrix), and lets the process end.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const options = parseArguments(argv);
  const tokens = tokensFromEnvironment(env);
  if (options.command === 'serve' && tokens.length === 0) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      'agentrix serve needs a token: set AGENTRIX_ADMIN_TOKEN (and/or AGENTRIX_OPERATE_TOKEN, AGENTRIX_READ_TOKEN)',
    );
  }
  const host = await loadHost(options.file);
  const assets = options.console ? await consoleDirectory() : undefined;
  const { close: closeHost, ...serverOptions } = host;
  const server = createServer({
    ...serverOptions,
    ...(tokens.length > 0 ? { tokens } : {}),
    ...(assets ? { console: assets } : {}),
    secrets: [...(serverOptions.secrets ?? []), ...tokens.map((entry) => entry.token)],
  });
  let url: string;
  try {
    ({ url } = await server.listen({ port: options.port, host: options.host }));
  } catch (error) {
    await server.close();
    await (closeHost ? closeHost() : host.agentrix.close());
    throw error;
  }
  process.stdout.write(`agentrix ${options.command}: listening on ${url}${assets ? ' (console at /)' : ''}\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  await (closeHost ? closeHost() : host.agentrix.close());
  process.stdout.write('agentrix: stopped\n');
}
