import { describe, expect, it } from 'vitest';
import { escapeHtml, markdownToHtml } from './format.js';
import { splitMessage } from './split.js';

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
