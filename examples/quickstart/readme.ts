import { defineTool } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { z } from 'zod';

const weather = defineTool({
  name: 'weather',
  description: 'Current temperature in a city',
  input: z.object({ city: z.string() }),
  execute: ({ city }) => ({ city, celsius: 21 }),
});

const model = new MockLLM({
  script: [{ toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] }, { text: 'It is 21 °C in Oslo.' }],
});

await using agentrix = await createAgentrix({ model, tools: [weather] });
await agentrix.create({ id: 'assistant', instructions: 'Answer briefly.', tools: ['weather'] });
const reply = await agentrix.ask('assistant', 'How warm is it in Oslo?');
console.log(reply.content); // It is 21 °C in Oslo.
