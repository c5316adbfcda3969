import { describe, expect, it } from 'vitest';
import { escapeHtml, markdownToHtml } from './format.js';
import { splitMessage } from './split.js';
import { clip } from './telegram-api.js';

describe('markdownToHtml', () => {
  it('escapes &, < and > everywhere, code included', () => {
    expect(escapeHtml('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(markdownToHtml('if a<b then `x && y`')).toBe('if a&lt;b then <code>x &amp;&amp; y</code>');
  });

  it('renders fenced code, bold and http links; leaves the rest as written', () => {
    expect(markdownToHtml('**Plan**\n```ts\nconst a = 1 < 2;\n```\nsee [docs](https://x.dev/a?b=1&c=2) _as is_')).toBe(
      '<b>Plan</b>\n<pre><code class="language-ts">const a = 1 &lt; 2;</code></pre>\nsee <a href="https://x.dev/a?b=1&amp;c=2">docs</a> _as is_',
    );
    expect(markdownToHtml('[bad](javascript:alert(1))')).toBe('[bad](javascript:alert(1))');
  });

  it('renders an unterminated fence as code to the end', () => {
    expect(markdownToHtml('look:\n```\nx <y')).toBe('look:\n<pre>x &lt;y</pre>');
  });
});

describe('splitMessage', () => {
  it('keeps a message that fits whole', () => {
    expect(splitMessage('short')).toEqual(['short']);
  });

  it('cuts between lines so that every rendered part fits, and loses nothing', () => {
    const text = Array.from({ length: 50 }, (_, index) => `line ${index} & more`).join('\n');
    const parts = splitMessage(text, 200);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) expect(markdownToHtml(part).length).toBeLessThanOrEqual(200);
    expect(parts.join('\n')).toBe(text);
  });

  it('cuts a line longer than a message between words, keeping surrogate pairs whole', () => {
    const text = `${'word '.repeat(100)}${'😀'.repeat(100)}`;
    const parts = splitMessage(text, 120);
    for (const part of parts) {
      expect(markdownToHtml(part).length).toBeLessThanOrEqual(120);
      expect(part).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
    expect(parts.join('')).toBe(text);
  });

  it('closes a code block at the end of a part and opens it again in the next', () => {
    const code = Array.from({ length: 40 }, (_, index) => `let v${index} = ${index};`).join('\n');
    const parts = splitMessage(`Here:\n\`\`\`js\n${code}\n\`\`\`\nDone.`, 300);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) {
      expect(markdownToHtml(part).length).toBeLessThanOrEqual(300);
      expect(part.split('\n').filter((line) => line.startsWith('```')).length % 2).toBe(0);
    }
    expect(parts[1]?.startsWith('```js\n')).toBe(true);
  });
});

describe('what Telegram would refuse', () => {
  /** What Telegram checks of `parse_mode: 'HTML'`: only its tags, properly nested, no raw `<`. */
  function parses(html: string): boolean {
    const open: string[] = [];
    for (const match of html.matchAll(/<[^>]*>?/g)) {
      const tag = /^<(\/?)(b|code|pre|a)(?: (?:href|class)="[^"<>]*")?>$/.exec(match[0]);
      if (tag === null) return false;
      if (tag[1] === '') open.push(tag[2] as string);
      else if (open.pop() !== tag[2]) return false;
    }
    return open.length === 0 && !/&(?!(amp|lt|gt|quot);)/.test(html);
  }

  it('overlapping or unbalanced Markdown from a model falls back to escaped text, never invalid HTML', () => {
    for (const text of [
      '[a **b](https://x.dev) c**',
      '[x](https://a**b)**c**',
      '**bold [link](https://x.dev/**) tail**',
      '**a `b** c`',
      '`**` and ** plus [](https://x) ` unclosed',
      '```\nnever closed **x** <y>',
    ]) {
      const html = markdownToHtml(text);
      expect(parses(html), `${text} -> ${html}`).toBe(true);
    }
    expect(markdownToHtml('[a **b](https://x.dev) c**')).toBe('[a **b](https://x.dev) c**');
  });

  it('a long formatted answer splits into parts that each parse and fit, whatever is cut', () => {
    const unit = '**Step** one & two: see [the docs](https://x.dev/a?b=1&c=2), run `a < b` then ';
    const text = `${unit.repeat(120)}\n\`\`\`sh\n${'echo "<&>" 😀\n'.repeat(400)}\`\`\`\n${'😀 **done** '.repeat(500)}`;
    const parts = splitMessage(text);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) {
      const html = markdownToHtml(part);
      expect(html.length).toBeLessThanOrEqual(4096);
      expect(parses(html)).toBe(true);
      expect(html).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
  });

  it('never sends a part of blank lines only', () => {
    const parts = splitMessage(`${'a'.repeat(99)}${'\n '.repeat(10)}\n${'b'.repeat(95)}`, 100);
    expect(parts).toEqual(['a'.repeat(99), 'b'.repeat(95)]);
  });

  it('clips plain text to one message without splitting a surrogate pair', () => {
    const clipped = clip(`${'x'.repeat(4094)}😀 and more`);
    expect(clipped.length).toBeLessThanOrEqual(4096);
    expect(clipped).toBe(`${'x'.repeat(4094)}…`);
  });
});
