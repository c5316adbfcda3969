import { describe, expect, it } from 'vitest';
import { PreparedStatements } from './prepared-statements.js';

describe('PreparedStatements', () => {
  it('names each text once, and none past the cap (those run as plain statements)', () => {
    const statements = new PreparedStatements(2);
    statements.add('select 1');
    statements.add('select 2');
    statements.add('select 1');
    statements.add('select 3');
    expect([statements.nameOf('select 1'), statements.nameOf('select 2'), statements.nameOf('select 3')]).toEqual([
      'agentrix_1',
      'agentrix_2',
      undefined,
    ]);
  });
});
