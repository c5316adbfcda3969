// The process entry of the `agentrix` bin: runs the CLI and turns a failure into a message and
// exit code 1 (the error's code and text, never a stack with a secret in it).
import { AgentrixError, redactText } from '@agentrix/core';
import { main } from './cli.js';

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    AgentrixError.isInstance(error)
      ? `agentrix: ${error.code}: ${error.message}\n`
      : `agentrix: ${redactText(error instanceof Error ? error.message : String(error))}\n`,
  );
  process.exitCode = 1;
});
