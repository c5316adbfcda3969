/**
 * Model answers are Markdown; Telegram is sent HTML (`parse_mode: 'HTML'`), because HTML needs
 * only `&`, `<` and `>` escaped, where MarkdownV2 reserves 18 characters that models use all the
 * time. A small subset is rendered: fenced code blocks, inline code, `**bold**` and
 * `[links](https://...)`; everything else is shown as written.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const FENCE = /^```([\w+-]*)[^\n]*\n([\s\S]*?)(?:\n```[^\n]*$|$(?![\s\S]))/gm;

/**
 * Renders Markdown `text` as Telegram HTML (see the module notes). Markdown a model writes can
 * overlap (`[a **b](https://x) c**`); when the result would not be well-formed HTML, which
 * Telegram refuses ("can't parse entities"), the text is sent escaped, as written.
 */
export function markdownToHtml(text: string): string {
  const html = render(text);
  return isWellFormed(html) ? html : escapeHtml(text);
}

const TAG = /<(\/?)(b|code|pre|a)(?: (?:href|class)="[^"<>]*")?>/y;

/** Every `<` opens or closes one of the tags `render` writes, properly nested (user text has no raw `<`). */
function isWellFormed(html: string): boolean {
  const open: string[] = [];
  for (let index = html.indexOf('<'); index !== -1; index = html.indexOf('<', index + 1)) {
    TAG.lastIndex = index;
    const match = TAG.exec(html);
    if (match === null) return false;
    const [, closing, name] = match as unknown as [string, string, string];
    if (closing === '') {
      if (open.includes(name)) return false; // <b> in <b>, <a> in <a>: refused
      open.push(name);
    } else if (open.pop() !== name) {
      return false;
    }
  }
  return open.length === 0;
}

function render(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(FENCE)) {
    out += renderInline(text.slice(last, match.index));
    const language = match[1] ?? '';
    const code = escapeHtml(match[2] ?? '');
    out +=
      language === ''
        ? `<pre>${code}</pre>`
        : `<pre><code class="language-${escapeHtml(language)}">${code}</code></pre>`;
    last = match.index + match[0].length;
  }
  return out + renderInline(text.slice(last));
}

const INLINE_CODE = /`([^`\n]+)`/g;
const BOLD = /\*\*([^*\n]+)\*\*/g;
const LINK = /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g;

function renderInline(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(INLINE_CODE)) {
    out += renderPlain(text.slice(last, match.index));
    out += `<code>${escapeHtml(match[1] ?? '')}</code>`;
    last = match.index + match[0].length;
  }
  return out + renderPlain(text.slice(last));
}

function renderPlain(text: string): string {
  return escapeHtml(text)
    .replace(BOLD, '<b>$1</b>')
    .replace(LINK, (_match, label: string, url: string) => `<a href="${url.replace(/"/g, '&quot;')}">${label}</a>`);
}
