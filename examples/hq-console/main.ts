import { consoleAssetsDir } from '@agentrix/console';
import { OpenAIProvider } from '@agentrix/gateway';
import { createServer } from '@agentrix/server';
import { createHqConsole } from './hq-console.js';

// The autonomous HQ behind the control API and the console, on http://127.0.0.1:4111.
// No API key: scripted mock models. With OPENAI_API_KEY: OpenAI through the gateway.
// Run it with `pnpm --filter @agentrix/example-hq-console start`, then drive it with the
// curl commands of README.md. Ctrl-C stops it.
const real = process.env.OPENAI_API_KEY
  ? new OpenAIProvider({
      apiKey: process.env.OPENAI_API_KEY,
      ...(process.env.OPENAI_BASE_URL ? { baseURL: process.env.OPENAI_BASE_URL } : {}),
    })
  : undefined;
const setup = await createHqConsole(real ? { provider: real, tiers: { large: 'gpt-4o', small: 'gpt-4o-mini' } } : {});
const server = createServer({
  agentrix: setup.agentrix,
  hq: setup.hq,
  console: consoleAssetsDir,
  ...(process.env.OPENAI_API_KEY ? { secrets: [process.env.OPENAI_API_KEY] } : {}),
});
const { url } = await server.listen({ port: Number(process.env.PORT ?? 4111) });
console.log(`HQ console on ${url} (${real ? 'OpenAI' : 'scripted mock models'})`);
console.log(`Try: curl -X POST ${url}/api/hq/strategic-goal -H 'content-type: application/json' \\
  -d '{"goal":"Ship version 1.2 of the documentation site","priority":5}'`);

await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await server.close();
await setup.close();
