// The MCP client under test for `@modelcontextprotocol/conformance client`: built on
// McpClientManager, it connects to the URL given as the last argument (streamable HTTP), lists
// the tools and calls each one with arguments made from its schema, the way an agent would.
// The scenario (env MCP_CONFORMANCE_SCENARIO) only picks the credentials; MCP_CONFORMANCE_CONTEXT
// carries pre-registered ones.
//
//   node --conditions=agentrix-source --import tsx packages/skills/src/conformance/conformance-client.ts <url>

import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { ClientCredentialsProvider, PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { McpClientManager } from '../mcp/mcp-client-manager.js';
import type { McpHttpServerOptions } from '../mcp/mcp-server-options.js';
import { HeadlessOAuthProvider } from './headless-oauth-provider.js';

const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

interface ConformanceContext {
  name?: string;
  client_id?: string;
  client_secret?: string;
  private_key_pem?: string;
  signing_algorithm?: string;
}

function authOptions(scenario: string): Pick<McpHttpServerOptions, 'authProvider' | 'authorizationCode'> {
  if (!scenario.startsWith('auth/')) return {};
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as ConformanceContext;
  if (context.private_key_pem && context.client_id) {
    const provider: OAuthClientProvider = new PrivateKeyJwtProvider({
      clientId: context.client_id,
      privateKey: context.private_key_pem,
      algorithm: context.signing_algorithm ?? 'ES256',
    });
    return { authProvider: provider };
  }
  if (scenario.includes('client-credentials') && context.client_id && context.client_secret) {
    return {
      authProvider: new ClientCredentialsProvider({ clientId: context.client_id, clientSecret: context.client_secret }),
    };
  }
  const provider = new HeadlessOAuthProvider({
    clientName: 'agentrix-conformance',
    clientMetadataUrl: CLIENT_METADATA_URL,
    ...(context.client_id
      ? {
          client: {
            client_id: context.client_id,
            ...(context.client_secret ? { client_secret: context.client_secret } : {}),
            redirect_uris: ['http://localhost:3000/callback'],
          },
        }
      : {}),
  });
  return { authProvider: provider, authorizationCode: () => provider.authorizationCode() };
}

/** Minimal arguments satisfying a tool's JSON Schema (required properties only). */
function sampleArguments(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<
    string,
    { type?: string; default?: unknown; enum?: unknown[] }
  >;
  const out: Record<string, unknown> = {};
  for (const key of (schema.required ?? []) as string[]) {
    const property = properties[key] ?? {};
    out[key] =
      property.default ??
      property.enum?.[0] ??
      ({ number: 1, integer: 1, boolean: true, array: [], object: {} } as Record<string, unknown>)[
        property.type ?? ''
      ] ??
      'test';
  }
  return out;
}

async function main(): Promise<void> {
  const url = process.argv.at(-1);
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  if (!url?.startsWith('http')) throw new Error('Usage: conformance-client <server-url>');
  const manager = new McpClientManager({
    clientInfo: { name: 'agentrix-conformance-client', version: '0.1.0' },
    // Accept elicitations with no fields: the SDK fills in the schema's defaults.
    onElicitation: async () => ({ action: 'accept', content: {} }),
  });
  try {
    const status = await manager.add({
      name: 'server',
      transport: 'streamable-http',
      url,
      reconnect: { attempts: 0 },
      callTimeoutMs: 20_000,
      ...authOptions(scenario),
    });
    for (const [tool, skill] of Object.entries(status.tools)) {
      const parameters = manager.registry.require(skill).parameters;
      const result = await manager.callTool('server', tool, sampleArguments(parameters));
      console.log(`${tool}: ${JSON.stringify(result.content).slice(0, 200)}`);
    }
  } finally {
    await manager.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
