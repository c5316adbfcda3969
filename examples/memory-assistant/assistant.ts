import { createMemory } from '@agentrix/memory';
import { createAgentrix } from '@agentrix/runtime';
import { openDatabase } from '@agentrix/store';
import { MockLLM, type MockRequest } from '@agentrix/testing';

/**
 * The mock small model: summarizes a turn as JSON and lists "my X is Y" statements as stable
 * facts (a real small model does this from the instructions in SUMMARY_INSTRUCTIONS).
 */
function mockSummaryModel(): MockLLM {
  return new MockLLM({
    record: false,
    fallback: (request: MockRequest) => {
      const said = request.messages.at(-1)?.content ?? '';
      const facts = [...said.matchAll(/\bmy ([\w ]+?) is ([\w-]+)/gi)].map((match) => ({
        key: `user.${match[1]!.toLowerCase().replaceAll(' ', '_')}`,
        text: `The user's ${match[1]!.toLowerCase()} is ${match[2]}`,
      }));
      return { text: JSON.stringify({ topic: said.slice(0, 80) || 'chat', stableFacts: facts }) };
    },
  });
}

/** The mock chat model: answers a question from what memory put in the system prompt. */
function mockChatModel(): MockLLM {
  return new MockLLM({
    record: false,
    fallback: (request: MockRequest) => {
      const question = request.messages.at(-1)?.content ?? '';
      if (!question.endsWith('?')) return { text: 'Nice to meet you, I will remember that.' };
      const memory = request.messages.find((message) => message.content.startsWith('[memory]'))?.content ?? '';
      const topic = /what is my ([\w ]+)\?/i.exec(question)?.[1]?.toLowerCase();
      const fact = topic ? new RegExp(`user's ${topic} is ([\\w-]+)`).exec(memory)?.[1] : undefined;
      return { text: fact ? `Your ${topic} is ${fact}.` : 'I do not know yet.' };
    },
  });
}

/**
 * One session of the assistant on the PGlite directory `directory`: sends `messages` from
 * `userId` and returns the replies. Everything is closed at the end, like a process exiting.
 */
export async function runSession(directory: string, userId: string, messages: string[]): Promise<string[]> {
  await using database = await openDatabase(directory);
  await using memory = await createMemory({ database, model: mockSummaryModel() });
  // The model gets the memories retrieved for each message; each turn's episode (and the facts it
  // teaches) is stored in the turn's commit, before its message is acked.
  await using agentrix = await createAgentrix({ model: mockChatModel(), memory });
  await agentrix.create({ id: 'assistant', instructions: 'You are a friendly assistant.', scope: { userId } });
  const replies: string[] = [];
  for (const message of messages) {
    replies.push((await agentrix.ask('assistant', message)).content);
    await agentrix.waitForIdle(); // the reply comes before the commit: wait for the turn to finish
  }
  return replies;
}
