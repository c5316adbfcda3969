/** How many of the best first-pass episodes lend their names to the second query. */
const BRIDGE_SOURCES = 3;

/**
 * The second query of a multi-hop question, by rule: the names (capitalised words inside a
 * sentence) of the best first-pass episodes that the question does not contain. "What did
 * Ana's cousin who moved to Leeds open?" finds "My cousin Rafi just moved to Leeds"; its second
 * half ("Rafi opened a bakery") shares no word with the question but the name. Speakers (a
 * transcript line's `Name:`) are left out: they are in every other turn. Undefined when there is
 * no new name.
 */
export function bridgeQuery(
  query: string,
  ranked: readonly { text: string }[],
  speakers: ReadonlySet<string>,
): string | undefined {
  const asked = new Set((query.match(/[\p{L}\p{N}]+/gu) ?? []).map((word) => word.toLowerCase()));
  const names = new Set<string>();
  for (const { text } of ranked.slice(0, BRIDGE_SOURCES)) {
    // A capitalised word after a letter, a digit or a comma and a space: not a sentence's first word.
    for (const match of text.matchAll(/(?<=[\p{Ll}\p{N},] )\p{Lu}[\p{Ll}]+/gu)) {
      const name = match[0];
      if (!asked.has(name.toLowerCase()) && !speakers.has(name)) names.add(name);
    }
  }
  return names.size > 0 ? [...names].join(' ') : undefined;
}

/** The speakers of transcript lines (`Name: text`) among `rows`. */
export function speakersOf(rows: readonly { text: string }[]): Set<string> {
  const speakers = new Set<string>();
  for (const { text } of rows)
    for (const match of text.matchAll(/^([\p{L}][\p{L}\p{N} _-]{0,40}):/gmu)) speakers.add(match[1]!);
  return speakers;
}
