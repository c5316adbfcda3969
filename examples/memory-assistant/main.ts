import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSession } from './assistant.js';

// A chat assistant that remembers a user across sessions and restarts: memory lives in a PGlite
// directory (a temp dir here; pass a path to keep it). Mock models, no infrastructure.
const directory = process.argv[2] ?? (await mkdtemp(path.join(tmpdir(), 'agentrix-memory-assistant-')));
console.log(`Memory directory: ${directory}\n`);

const first = ['Hi! My name is Ada and my favourite colour is teal.'];
for (const [index, reply] of (await runSession(directory, 'ada', first)).entries()) {
  console.log(`session 1 > ${first[index]}\nassistant > ${reply}\n`);
}
console.log('(process restarts: everything closed, the directory reopened)\n');
const second = ['What is my name?', 'What is my favourite colour?'];
for (const [index, reply] of (await runSession(directory, 'ada', second)).entries()) {
  console.log(`session 2 > ${second[index]}\nassistant > ${reply}\n`);
}
if (!process.argv[2]) await rm(directory, { recursive: true, force: true });
