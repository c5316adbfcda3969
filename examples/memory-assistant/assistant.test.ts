import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runSession } from './assistant.js';

it('remembers a user across a restart', async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'agentrix-memory-assistant-test-'));
  try {
    await runSession(directory, 'ada', ['Hi! My name is Ada and my favourite colour is teal.']);
    const replies = await runSession(directory, 'ada', ['What is my name?', 'What is my favourite colour?']);
    expect(replies).toEqual(['Your name is Ada.', 'Your favourite colour is teal.']);
    const stranger = await runSession(directory, 'bob', ['What is my name?']);
    expect(stranger).toEqual(['I do not know yet.']);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}, 60_000);
