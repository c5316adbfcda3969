import { groupNotFound, validateAddress } from '@agentrix/core/implement';
import type { RedisBusContext } from './redis-bus-context.js';
import { deleteGroupScript, joinScript, leaveScript, membersScript } from './redis-group-scripts.js';

/** Groups of the Redis bus: a set of names (`{groups}`) and a join-ordered hash per group, all in one slot. */
export class RedisGroups {
  readonly #context: RedisBusContext;

  constructor(context: RedisBusContext) {
    this.#context = context;
  }

  /** Creates an empty group; creating an existing group changes nothing. */
  async create(group: string): Promise<void> {
    validateAddress(group, 'group');
    const { client, keys } = this.#context;
    await this.#context.call('createGroup', group, () => client.call('SADD', keys.groups, group));
  }

  async delete(group: string): Promise<void> {
    validateAddress(group, 'group');
    const { client, keys } = this.#context;
    const found = await this.#context.call('deleteGroup', group, () =>
      deleteGroupScript.run(client, [keys.groups, keys.group(group)], [group]),
    );
    if (Number(found) === 0) throw groupNotFound(group);
  }

  /** Adds `member` (an inbox address); joining twice changes nothing. */
  async join(group: string, member: string): Promise<void> {
    validateAddress(group, 'group');
    validateAddress(member, 'member');
    const { client, keys } = this.#context;
    const found = await this.#context.call('join', group, () =>
      joinScript.run(client, [keys.groups, keys.group(group), keys.groupSequence], [group, member]),
    );
    if (Number(found) === 0) throw groupNotFound(group);
  }

  /** Removes `member`; leaving a group one is not in changes nothing. The group stays. */
  async leave(group: string, member: string): Promise<void> {
    validateAddress(group, 'group');
    validateAddress(member, 'member');
    const { client, keys } = this.#context;
    const found = await this.#context.call('leave', group, () =>
      leaveScript.run(client, [keys.groups, keys.group(group)], [group, member]),
    );
    if (Number(found) === 0) throw groupNotFound(group);
  }

  /** Group names, sorted. */
  async names(): Promise<string[]> {
    const { client, keys } = this.#context;
    const names = (await this.#context.call('groups', 'groups', () =>
      client.call('SMEMBERS', keys.groups),
    )) as string[];
    return names.sort();
  }

  /** Members in join order (a broadcast's order); `operation` names the caller in errors. */
  async membersInJoinOrder(group: string, operation: string): Promise<string[]> {
    validateAddress(group, 'group');
    const { client, keys } = this.#context;
    const members = (await this.#context.call(operation, group, () =>
      membersScript.run(client, [keys.groups, keys.group(group)], [group]),
    )) as string[] | null;
    if (members === null) throw groupNotFound(group);
    return members;
  }
}
