import { describe, expect, it } from 'vitest';
import { MAX_QUERY_LENGTH } from './lexical-search.js';
import { withVerbForms } from './verb-forms.js';

describe('withVerbForms', () => {
  it("adds the past and participle of a did question's main verb, after its subject", () => {
    expect(withVerbForms('What sport did Sam take up at the gym?')).toBe(
      'What sport did Sam take up at the gym? took taken',
    );
    expect(withVerbForms('How did she feel after the race?')).toBe('How did she feel after the race? felt');
    expect(withVerbForms('When did the kids go camping?')).toBe('When did the kids go camping? goes went gone');
    expect(withVerbForms("When did Ana's mom buy the car?")).toBe("When did Ana's mom buy the car? bought");
    expect(withVerbForms("Why didn't Ben Carter see it?")).toBe("Why didn't Ben Carter see it? saw seen");
    expect(withVerbForms('Did you eat there?')).toBe('Did you eat there? ate eaten');
    expect(withVerbForms('When did Jon and Gina meet?')).toBe('When did Jon and Gina meet? met');
    expect(withVerbForms('When did Ana first run 15 km?')).toBe('When did Ana first run 15 km? ran');
    expect(withVerbForms('Where did Ana and her sister fly to?')).toBe(
      'Where did Ana and her sister fly to? flew flown',
    );
    expect(withVerbForms('Why didn’t Ana’s dad come?')).toBe('Why didn’t Ana’s dad come? came');
  });

  it("adds the base and past of a perfect question's irregular participle", () => {
    expect(withVerbForms('What bands has Ana seen live?')).toBe('What bands has Ana seen live? see saw');
    expect(withVerbForms('Where have Ana and her kids gone camping?')).toBe(
      'Where have Ana and her kids gone camping? go goes went',
    );
    expect(withVerbForms('What items has Ana bought?')).toBe('What items has Ana bought? buy');
    expect(withVerbForms("Hasn't Ben ever ridden a horse?")).toBe("Hasn't Ben ever ridden a horse? ride rode");
    expect(withVerbForms('What had they written by then?')).toBe('What had they written by then? write wrote');
    // "been" is the perfect continuous, not the main verb.
    expect(withVerbForms('What has Ana been drinking?')).toBe('What has Ana been drinking? drank drunk');
  });

  it('expands each did clause once', () => {
    expect(withVerbForms('When did Ana run a race, and where did Ben go?')).toBe(
      'When did Ana run a race, and where did Ben go? ran goes went gone',
    );
    expect(withVerbForms('What did Ana make, and what did Ben make?')).toBe(
      'What did Ana make, and what did Ben make? made',
    );
  });

  it('leaves an infinitive, a regular verb and a question without did as they are', () => {
    for (const question of [
      // The answer says "I agreed to get ...": the infinitive keeps its form.
      'What did Ana agree to get for the cats?',
      'When did Ben paint the sunrise?',
      'Where does Ana work now?',
      'Which game do Ana and Ben both play?',
      'What did Ana?',
      // "have" as the main verb: no verb after its object.
      'Do Ana and Ben have a dog?',
      'What pets does Ana have?',
      'Which kind of music do Ana and Ben have in common?',
      'How long has Ana had her car?',
      'What kind of bread has Ana been baking?',
      '',
    ])
      expect(withVerbForms(question)).toBe(question);
  });

  it('reads what a search reads of a huge query, and keeps the forms within it', () => {
    const huge = `What did Sam take up? ${'and more words '.repeat(10_000)}`;
    const searched = withVerbForms(huge);
    expect(searched.length).toBeLessThanOrEqual(MAX_QUERY_LENGTH);
    expect(searched.endsWith(' took taken')).toBe(true);
    expect(searched.startsWith('What did Sam take up? and more words')).toBe(true);
    // A "did" past the searched characters is not read.
    const late = `${'x '.repeat(MAX_QUERY_LENGTH)} did Sam take up?`;
    expect(withVerbForms(late)).toBe(late);
  });
});
