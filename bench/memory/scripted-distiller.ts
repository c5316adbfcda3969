// A deterministic stand-in for a small distilling model, for the bench. It reads only what a
// model is given (the session transcript the distiller sends: a date line and "[n] Name: text"
// turns) and applies rules a small model follows: first-person statements become third-person
// facts about the speaker, relative times are resolved against the session date and go to the
// session summary, a short agreement after a suggestion becomes a fact about what was agreed,
// and a statement about someone named becomes a fact. It never sees the questions or their
// evidence. Its lexicon of agreements is ordinary English, written knowing the generator's
// phrasing (topics.ts), so read its gains as an upper bound of what rules give, not a model's.

import { MockLLM, type MockRequest } from '@agentrix/testing';

interface SessionTurn {
  n: number;
  name: string;
  text: string;
}

interface Cited {
  key: string;
  text: string;
  evidence: number[];
}

const DAY = 86_400_000;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const AGREEMENT =
  /\b(yes|yeah|yep|sure|okay|ok|deal|good idea|great idea|will do|i'll|i will|let's|doing it|love that|perfect|convinced|great shout|you're right|sounds good)\b/i;
const SUGGESTION = /^(you should|you could|why not|try|get|take|go|join|rent|plant|paint|watch|develop|do|add)\b/i;

const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);

/** A relative time in `sentence` resolved against the session day, as "on 2023-05-07". */
function resolveTime(sentence: string, sessionDay: number): { text: string; dated: boolean } {
  const rules: Array<[RegExp, () => string]> = [
    [/\byesterday\b/i, () => `on ${isoDay(sessionDay - DAY)}`],
    [/\btwo days ago\b/i, () => `on ${isoDay(sessionDay - 2 * DAY)}`],
    [/\bthis morning\b/i, () => `on the morning of ${isoDay(sessionDay)}`],
    [/\blast week\b/i, () => `in the week before ${isoDay(sessionDay)}`],
    [/\bthis week\b/i, () => `in the week of ${isoDay(sessionDay)}`],
    [
      /\b(?:last|on) (sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/i,
      () => {
        const weekday = WEEKDAYS.indexOf(
          /(sunday|monday|tuesday|wednesday|thursday|friday|saturday)/i.exec(sentence)![1]!.toLowerCase(),
        );
        const back = (new Date(sessionDay).getUTCDay() - weekday + 7) % 7 || 7;
        return `on ${isoDay(sessionDay - back * DAY)}`;
      },
    ],
  ];
  for (const [pattern, replacement] of rules) {
    if (pattern.test(sentence)) return { text: sentence.replace(pattern, replacement()), dated: true };
  }
  return { text: sentence, dated: false };
}

/** First person to the speaker's name, second person to the listener's. */
function thirdPerson(sentence: string, speaker: string, listener: string): string {
  return sentence
    .replace(/\bI am\b|\bI'm\b/g, `${speaker} is`)
    .replace(/\bI have\b|\bI've\b/g, `${speaker} has`)
    .replace(/\bI'll\b/g, `${speaker} will`)
    .replace(/\bI\b/g, speaker)
    .replace(/\b[Mm]y\b/g, `${speaker}'s`)
    .replace(/\b[Mm]e\b/g, speaker)
    .replace(/\b[Ww]e\b/g, `${speaker} and family`)
    .replace(/\b[Oo]ur\b/g, `${speaker}'s family's`)
    .replace(/\b[Yy]our\b/g, `${listener}'s`)
    .replace(/\b[Yy]ou\b/g, listener);
}

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 2)
    .slice(0, 5)
    .join('-');

/** The distillation of one session transcript, as JSON text. */
export function distilSession(transcript: string): string {
  const [header = '', ...lines] = transcript.split('\n');
  const sessionDay = Date.parse(`${/(\d{4}-\d{2}-\d{2})/.exec(header)?.[1] ?? '1970-01-01'}T00:00:00Z`);
  const turns: SessionTurn[] = lines.flatMap((line) => {
    const [, n, name, text] = /^\[(\d+)\] ([^:]+): (.*)$/.exec(line) ?? [];
    return n ? [{ n: Number(n), name: name!, text: text! }] : [];
  });
  const speakers = new Set(turns.map((turn) => turn.name));
  const listenerOf = (name: string) => [...speakers].find((other) => other !== name) ?? 'them';
  const facts: Cited[] = [];
  const events: Cited[] = [];
  for (const [index, turn] of turns.entries()) {
    const listener = listenerOf(turn.name);
    const previous = turns[index - 1];
    // A short agreement: its meaning is the suggestion before it.
    if (
      previous &&
      previous.name !== turn.name &&
      turn.text.split(' ').length <= 12 &&
      AGREEMENT.test(turn.text) &&
      SUGGESTION.test(previous.text)
    ) {
      const suggestion = thirdPerson(previous.text.split(/(?<=[.!?])\s+/)[0]!, previous.name, turn.name);
      facts.push({
        key: `${turn.name.toLowerCase()}.agreed.${slug(suggestion)}`,
        text: `${turn.name} agreed to ${previous.name}'s suggestion: ${suggestion}`,
        evidence: [previous.n, turn.n],
      });
      continue;
    }
    for (const sentence of turn.text.split(/(?<=[.!?])\s+/)) {
      if (sentence.endsWith('?') || sentence.split(' ').length < 5) continue;
      const aboutSelf = /\b(I|I'm|I've|my|My|we|We|our|Our)\b/.test(sentence) && !/\byou\b/i.test(sentence);
      const named = sentence
        .slice(1)
        .match(/\b[A-Z][a-z]+\b/g)
        ?.some((word) => !speakers.has(word) && word !== 'I');
      if (!aboutSelf && !named) continue;
      const { text, dated } = resolveTime(thirdPerson(sentence, turn.name, listener), sessionDay);
      const said = aboutSelf ? text : `${turn.name} said: ${text}`;
      (dated ? events : facts).push({
        key: `${turn.name.toLowerCase()}.${slug(text.replaceAll(turn.name, ''))}`,
        text: said,
        evidence: [turn.n],
      });
    }
  }
  const summary =
    events.length === 0
      ? null
      : {
          text: events.map((event) => event.text.replace(/[.!]$/, '')).join('; '),
          evidence: [...new Set(events.flatMap((event) => event.evidence))],
        };
  // One fact a key: a statement said twice in a session cites both turns.
  const byKey = new Map<string, Cited>();
  for (const fact of facts) {
    const known = byKey.get(fact.key);
    if (known) known.evidence = [...new Set([...known.evidence, ...fact.evidence])];
    else byKey.set(fact.key, { ...fact });
  }
  return JSON.stringify({ summary, facts: [...byKey.values()] });
}

/** The scripted distiller as a model (records nothing: a bench makes thousands of calls). */
export function scriptedDistillerModel(): MockLLM {
  return new MockLLM({
    name: 'scripted-distiller',
    record: false,
    fallback: (request: MockRequest) => ({ text: distilSession(request.messages.at(-1)?.content ?? '') }),
  });
}
