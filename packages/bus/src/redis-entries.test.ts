import { describe, expect, it } from 'vitest';
import { isReplyText, replyText } from './redis-entries.js';

describe('reply bulk strings taken as buffers', () => {
  it('reads a buffer or a string as UTF-8 text', () => {
    expect(replyText(Buffer.from('héllo ✓'))).toBe('héllo ✓');
    expect(replyText('already text')).toBe('already text');
    expect(replyText(Buffer.alloc(0))).toBe('');
  });

  it('compares a buffer with a text byte by byte when ASCII, by its decoded text otherwise', () => {
    expect(isReplyText(Buffer.from('agentrix:ns:inbox:{a-1}:stream'), 'agentrix:ns:inbox:{a-1}:stream')).toBe(true);
    expect(isReplyText(Buffer.from('agentrix:ns:inbox:{a-2}:stream'), 'agentrix:ns:inbox:{a-1}:stream')).toBe(false);
    expect(isReplyText(Buffer.from('envelope'), 'envelop')).toBe(false);
    expect(isReplyText(Buffer.from('ünïcode'), 'ünïcode')).toBe(true);
    // Two bytes that are Latin-1 'é' and 'a', not the UTF-8 of 'éa': as long as the text, not equal to it.
    expect(isReplyText(Buffer.from([0xe9, 0x61]), 'éa')).toBe(false);
    expect(isReplyText('envelope', 'envelope')).toBe(true);
    expect(isReplyText(7, '7')).toBe(false);
  });
});
