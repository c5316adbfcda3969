import { AgentrixError, AgentrixEvents, type Tool, type ToolDefinition } from '@agentrix/core';
import { isSkill, type Skill, type SkillSource, skillFromTool } from './skill.js';
import { matchesToolPattern } from './tool-pattern.js';

/**
 * The skills one agent may see and call, with their model-facing definitions. Structurally a
 * runtime `ToolSet`, so it can be passed wherever one is expected. A set from
 * {@link SkillRegistry.select} is live: it follows registrations (MCP tools come and go).
 */
export interface SkillSet {
  readonly byName: ReadonlyMap<string, Skill<any, unknown>>;
  readonly definitions: readonly ToolDefinition[];
}

export interface SkillRegistryOptions {
  /** Where `skill.registered` / `skill.unregistered` go. Default: a new `AgentrixEvents`, as `registry.events`. */
  events?: AgentrixEvents;
}

export interface RegisterOptions {
  /** Replace a registered skill of the same name. Default `false`: a second name is `TOOL_EXISTS`. */
  replace?: boolean;
}

/** Filter of {@link SkillRegistry.list}. */
export interface SkillFilter {
  /** Skills carrying every one of these tags. */
  tags?: readonly string[];
  source?: SkillSource['kind'];
  /** Skills of this MCP server. */
  server?: string;
}

/**
 * Every skill a process knows, by name. Names are unique: registering a second skill under a
 * taken name throws `TOOL_EXISTS` unless `replace` is set, so nothing is silently overwritten.
 * Agents see a subset through an allow-list ({@link select}).
 */
export class SkillRegistry {
  readonly events: AgentrixEvents;
  readonly #skills = new Map<string, Skill<any, unknown>>();
  #version = 0;

  constructor(options: SkillRegistryOptions = {}) {
    this.events = options.events ?? new AgentrixEvents();
  }

  /** Bumped by every change; live sets use it to recompute. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#skills.size;
  }

  /** Registers a skill, or a plain core `Tool` (as a low-cost, sequential, non-idempotent skill). */
  register(skillOrTool: Skill<any, any> | Tool<any, any>, options: RegisterOptions = {}): Skill<any, unknown> {
    const skill = (isSkill(skillOrTool) ? skillOrTool : skillFromTool(skillOrTool)) as Skill<any, unknown>;
    const existing = this.#skills.get(skill.name);
    if (existing && existing !== skill && !options.replace) {
      throw new AgentrixError(
        'TOOL_EXISTS',
        `A skill named "${skill.name}" is already registered (${describeSource(existing.source)}). Pick another name, unregister it first, or pass { replace: true }.`,
        { toolName: skill.name },
      );
    }
    this.#skills.set(skill.name, skill);
    this.#version++;
    if (existing && existing !== skill)
      this.events.emit('skill.unregistered', { name: skill.name, source: existing.source });
    if (existing !== skill) this.events.emit('skill.registered', { name: skill.name, source: skill.source });
    return skill;
  }

  /** Removes a skill; returns whether it was there. */
  unregister(name: string): boolean {
    const skill = this.#skills.get(name);
    if (!skill) return false;
    this.#skills.delete(name);
    this.#version++;
    this.events.emit('skill.unregistered', { name, source: skill.source });
    return true;
  }

  has(name: string): boolean {
    return this.#skills.has(name);
  }

  get(name: string): Skill<any, unknown> | undefined {
    return this.#skills.get(name);
  }

  /** Like {@link get}, but a missing skill is `TOOL_NOT_FOUND` listing what is registered. */
  require(name: string): Skill<any, unknown> {
    const skill = this.#skills.get(name);
    if (skill) return skill;
    throw new AgentrixError(
      'TOOL_NOT_FOUND',
      `No skill named "${name}" is registered. Registered skills: ${[...this.#skills.keys()].join(', ') || 'none'}`,
      { toolName: name },
    );
  }

  names(): string[] {
    return [...this.#skills.keys()];
  }

  list(filter: SkillFilter = {}): Skill<any, unknown>[] {
    const out: Skill<any, unknown>[] = [];
    for (const skill of this.#skills.values()) {
      if (filter.source && skill.source.kind !== filter.source) continue;
      if (filter.server && (skill.source.kind !== 'mcp' || skill.source.server !== filter.server)) continue;
      if (filter.tags && !filter.tags.every((tag) => skill.tags.includes(tag))) continue;
      out.push(skill);
    }
    return out;
  }

  /**
   * The live set an agent with this allow-list sees. Entries are exact names or prefixes ending
   * in `*` (`everything__*`: every tool of the MCP server `everything`); `['*']` allows all.
   * Skills registered later that match appear in the set; removed ones disappear.
   */
  select(allow: readonly string[]): SkillSet {
    return new LiveSkillSet(this, allow);
  }
}

class LiveSkillSet implements SkillSet {
  readonly #registry: SkillRegistry;
  readonly #allow: readonly string[];
  #version = -1;
  #byName: Map<string, Skill<any, unknown>> = new Map();
  #definitions: ToolDefinition[] = [];

  constructor(registry: SkillRegistry, allow: readonly string[]) {
    this.#registry = registry;
    this.#allow = [...allow];
  }

  get byName(): ReadonlyMap<string, Skill<any, unknown>> {
    this.#refresh();
    return this.#byName;
  }

  get definitions(): readonly ToolDefinition[] {
    this.#refresh();
    return this.#definitions;
  }

  #refresh(): void {
    const version = this.#registry.version;
    if (version === this.#version) return;
    this.#version = version;
    const byName = new Map<string, Skill<any, unknown>>();
    for (const skill of this.#registry.list()) {
      if (matchesToolPattern(this.#allow, skill.name)) byName.set(skill.name, skill);
    }
    this.#byName = byName;
    this.#definitions = [...byName.values()].map((skill) => ({
      name: skill.name,
      description: skill.description,
      parameters: skill.parameters,
    }));
  }
}

function describeSource(source: SkillSource): string {
  return source.kind === 'mcp' ? `tool "${source.tool}" of MCP server "${source.server}"` : 'a local skill';
}
