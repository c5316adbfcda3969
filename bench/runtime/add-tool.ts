import { defineTool } from '@agentrix/core';
import { z } from 'zod';

/** The input schema, shared by the tool and the hand-written baseline loop. */
export const AddInput = z.object({ a: z.number(), b: z.number() });

export const add = ({ a, b }: z.output<typeof AddInput>): number => a + b;

/** A trivial tool: the bench measures the loop around it, not the tool. */
export const addTool = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  input: AddInput,
  execute: add,
});
