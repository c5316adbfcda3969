import { describe, expect, it } from 'vitest';
import { contents, namespace, type OpenBus, rejection, wait } from './support.js';

/** Groups and broadcast. */
export function groupsContract(openBus: OpenBus): void {
  describe('groups', () => {
    it('creates, joins, leaves, lists and deletes groups', async () => {
      const bus = await openBus();
      const ns = namespace();
      const group = `${ns}.team`;
      await bus.createGroup(group);
      await bus.createGroup(group); // idempotent
      expect(await bus.members(group)).toEqual([]);
      await bus.join(group, `${ns}.carol`);
      await bus.join(group, `${ns}.alice`);
      await bus.join(group, `${ns}.bob`);
      await bus.join(group, `${ns}.alice`); // no-op
      expect(await bus.members(group)).toEqual([`${ns}.alice`, `${ns}.bob`, `${ns}.carol`]);
      await bus.leave(group, `${ns}.bob`);
      await bus.leave(group, `${ns}.not-a-member`);
      expect(await bus.members(group)).toEqual([`${ns}.alice`, `${ns}.carol`]);
      await bus.createGroup(`${ns}.other`);
      expect((await bus.groups()).filter((name) => name.startsWith(ns))).toEqual([`${ns}.other`, group]);
      await bus.deleteGroup(group);
      expect((await bus.groups()).filter((name) => name.startsWith(ns))).toEqual([`${ns}.other`]);
      await rejection(bus.members(group), 'GROUP_NOT_FOUND');
    });

    it('rejects operations on a missing group with GROUP_NOT_FOUND', async () => {
      const bus = await openBus();
      const group = `${namespace()}.missing`;
      await rejection(bus.deleteGroup(group), 'GROUP_NOT_FOUND');
      await rejection(bus.join(group, 'alice'), 'GROUP_NOT_FOUND');
      await rejection(bus.leave(group, 'alice'), 'GROUP_NOT_FOUND');
      await rejection(bus.members(group), 'GROUP_NOT_FOUND');
      const error = await rejection(bus.broadcast({ group, from: 'host', content: 'hi' }), 'GROUP_NOT_FOUND');
      expect(error.message).toContain(group);
    });

    it('broadcasts one copy to every member, each with its own id', async () => {
      const bus = await openBus();
      const ns = namespace();
      const group = `${ns}.team`;
      const members = [`${ns}.a`, `${ns}.b`, `${ns}.c`];
      await bus.createGroup(group);
      for (const member of members) await bus.join(group, member);
      const envelopes = await bus.broadcast({ group, from: `${ns}.boss`, content: 'stand-up', type: 'notice' });
      expect(envelopes).toHaveLength(3);
      expect(new Set(envelopes.map((envelope) => envelope.id)).size).toBe(3);
      expect(envelopes.map((envelope) => envelope.to).sort()).toEqual(members);
      for (const member of members) {
        const deliveries = await bus.read(member, { blockMs: 0 });
        expect(deliveries).toHaveLength(1);
        expect(deliveries[0]!.envelope).toMatchObject({
          to: member,
          group,
          from: `${ns}.boss`,
          content: 'stand-up',
          type: 'notice',
        });
        expect(envelopes.map((envelope) => envelope.id)).toContain(deliveries[0]!.envelope.id);
      }
      expect(await bus.read(`${ns}.boss`, { blockMs: 0 })).toEqual([]);
      await bus.createGroup(`${ns}.empty`);
      expect(await bus.broadcast({ group: `${ns}.empty`, from: 'host', content: 'anyone?' })).toEqual([]);
    });

    it('wakes blocked members on broadcast', async () => {
      const bus = await openBus();
      const ns = namespace();
      const group = `${ns}.team`;
      await bus.createGroup(group);
      await bus.join(group, `${ns}.a`);
      await bus.join(group, `${ns}.b`);
      const reads = [bus.read(`${ns}.a`, { blockMs: 5000 }), bus.read(`${ns}.b`, { blockMs: 5000 })];
      await wait(30);
      await bus.broadcast({ group, from: 'host', content: 'all hands' });
      for (const deliveries of await Promise.all(reads)) expect(contents(deliveries)).toEqual(['all hands']);
    });
  });
}
