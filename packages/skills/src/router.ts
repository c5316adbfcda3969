import { AgentrixEvents, type ChatModel, type Clock, systemClock } from '@agentrix/core';
import { z } from 'zod';
import type { Skill } from './skill.js';
import type { SkillSet } from './skill-registry.js';
import { matchesToolPattern } from './tool-pattern.js';

/** A cheap, deterministic routing rule. The first rule that matches decides. */
export interface RouterRule {
  /** Reported in the decision. */
  name: string;
  /** Matches when the text contains any of these words (case-insensitive, whole words). */
  keywords?: readonly string[];
  pattern?: RegExp;
  predicate?: (input: RouteInput) => boolean;
  /** The skills to offer when the rule matches; `[]` means "no skills needed". Entries ending in `*` are prefixes. */
  skills: readonly string[];
}

export interface RouteInput {
  agentId: string;
  /** The message the turn answers. */
  text: string;
  /** What the agent may call. */
  skills: SkillSet;
}

export type RouteStage = 'rule' | 'small-model' | 'large-model' | 'fallback';

export interface RouteDecision {
  needsSkills: boolean;
  /** Names of the skills to offer, cheapest first. */
  skills: string[];
  stage: RouteStage;
  /** The matching rule's name, for `rule` decisions. */
  rule?: string;
  /** The model's confidence (0-1), for model decisions. */
  confidence?: number;
  /** Why a stage was skipped or failed, for `fallback` decisions. */
  reason?: string;
}

export interface RouterOptions {
  rules?: readonly RouterRule[];
  /** Asked when no rule matches. */
  small?: ChatModel;
  /** Asked when the small model is missing, fails or is less confident than `minConfidence`. */
  large?: ChatModel;
  /** Default 0.6. */
  minConfidence?: number;
  /** When every stage fails or none is configured: offer all skills (`'all'`, default) or none. */
  fallback?: 'all' | 'none';
  /** Where `router.decided` goes. Default: a new `AgentrixEvents`, as `router.events`. */
  events?: AgentrixEvents;
  clock?: Clock;
}

const ModelAnswerSchema = z.object({
  needsSkills: z.boolean(),
  skills: z.array(z.string()).default([]),
  confidence: z.number().min(0).max(1).default(1),
});

const ANSWER_JSON_SCHEMA = z.toJSONSchema(ModelAnswerSchema, { io: 'input' }) as Record<string, unknown>;

const COST_ORDER = { low: 0, med: 1, high: 2 } as const;

/**
 * Decides whether a turn needs skills and which ones, cheapest first: rules (keywords, patterns,
 * predicates), then a small-tier model, then the large one. Every decision is a `router.decided`
 * event.
 */
export class Router {
  readonly events: AgentrixEvents;
  readonly #rules: readonly RouterRule[];
  readonly #small: ChatModel | undefined;
  readonly #large: ChatModel | undefined;
  readonly #minConfidence: number;
  readonly #fallback: 'all' | 'none';
  readonly #clock: Clock;
  readonly #keywordPatterns: Map<RouterRule, RegExp>;

  constructor(options: RouterOptions = {}) {
    this.#rules = options.rules ?? [];
    this.#small = options.small;
    this.#large = options.large;
    this.#minConfidence = options.minConfidence ?? 0.6;
    this.#fallback = options.fallback ?? 'all';
    this.events = options.events ?? new AgentrixEvents();
    this.#clock = options.clock ?? systemClock;
    this.#keywordPatterns = new Map();
    for (const rule of this.#rules) {
      if (rule.keywords && rule.keywords.length > 0) {
        const words = rule.keywords.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
        this.#keywordPatterns.set(
          rule,
          new RegExp(`(^|[^\\p{L}\\p{N}_])(${words.join('|')})(?=$|[^\\p{L}\\p{N}_])`, 'iu'),
        );
      }
    }
  }

  async route(input: RouteInput, options: { signal?: AbortSignal } = {}): Promise<RouteDecision> {
    const started = this.#clock.now();
    const decision = await this.#decide(input, options.signal);
    if (this.events.has('router.decided')) {
      this.events.emit('router.decided', { agentId: input.agentId, decision, durationMs: this.#clock.now() - started });
    }
    return decision;
  }

  async #decide(input: RouteInput, signal: AbortSignal | undefined): Promise<RouteDecision> {
    const available = [...input.skills.byName.values()];
    for (const rule of this.#rules) {
      if (!this.#matches(rule, input)) continue;
      const skills = pick(available, rule.skills);
      return { needsSkills: skills.length > 0, skills, stage: 'rule', rule: rule.name };
    }
    const reasons: string[] = [];
    for (const [stage, model] of [
      ['small-model', this.#small],
      ['large-model', this.#large],
    ] as const) {
      if (!model) continue;
      try {
        const answer = await this.#ask(model, input, available, signal);
        if (stage === 'small-model' && this.#large && answer.confidence < this.#minConfidence) {
          reasons.push(`small model confidence ${answer.confidence} < ${this.#minConfidence}`);
          continue;
        }
        const skills = pick(available, answer.skills);
        return { needsSkills: answer.needsSkills && skills.length > 0, skills, stage, confidence: answer.confidence };
      } catch (error) {
        if (signal?.aborted) throw error;
        reasons.push(`${stage} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const skills = this.#fallback === 'all' ? sortByCost(available).map((skill) => skill.name) : [];
    return {
      needsSkills: skills.length > 0,
      skills,
      stage: 'fallback',
      reason: reasons.join('; ') || 'no rule matched and no model is configured',
    };
  }

  #matches(rule: RouterRule, input: RouteInput): boolean {
    const keywords = this.#keywordPatterns.get(rule);
    if (keywords?.test(input.text)) return true;
    if (rule.pattern) {
      rule.pattern.lastIndex = 0;
      if (rule.pattern.test(input.text)) return true;
    }
    return rule.predicate?.(input) === true;
  }

  async #ask(
    model: ChatModel,
    input: RouteInput,
    available: readonly Skill<any, unknown>[],
    signal: AbortSignal | undefined,
  ): Promise<z.output<typeof ModelAnswerSchema>> {
    const catalog = sortByCost(available)
      .map((skill) => `- ${skill.name} (cost ${skill.costTier}): ${skill.description}`)
      .join('\n');
    const response = await model.generate({
      messages: [
        {
          role: 'system',
          content:
            'You route requests for an agent. Decide whether answering the message needs any of the tools listed, and which. ' +
            'Answer with JSON only: {"needsSkills": boolean, "skills": [tool names], "confidence": number between 0 and 1}.',
        },
        { role: 'user', content: `Tools:\n${catalog || '(none)'}\n\nMessage:\n${input.text}` },
      ],
      responseFormat: { type: 'json_schema', name: 'route', schema: ANSWER_JSON_SCHEMA },
      temperature: 0,
      scope: { agentId: input.agentId, tags: ['router'] },
      ...(signal ? { signal } : {}),
    });
    const text = response.message.content.trim();
    const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
    return ModelAnswerSchema.parse(JSON.parse(json));
  }
}

function sortByCost(skills: readonly Skill<any, unknown>[]): Skill<any, unknown>[] {
  return [...skills].sort((a, b) => COST_ORDER[a.costTier] - COST_ORDER[b.costTier]);
}

/** The available skills named (or prefixed) by `wanted`, cheapest first; unknown names are dropped. */
function pick(available: readonly Skill<any, unknown>[], wanted: readonly string[]): string[] {
  const chosen = available.filter((skill) => matchesToolPattern(wanted, skill.name));
  return sortByCost(chosen).map((skill) => skill.name);
}
