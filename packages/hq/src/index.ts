export { createHq, Hq } from './hq.js';
export type { Plan, PlannedTask } from './hq-jobs.js';
export { PlannedTaskSchema, PlanSchema } from './hq-jobs.js';
export type { Goal, GoalInput, HqAgentManager, HqBudgetLine, HqGateway, HqOptions } from './hq-options.js';
export type { GoalLine, GoalStatus, HqEvent, HqReport, HqTask, TaskCounts, TaskResult } from './hq-report.js';
export { parsePlan } from './planner.js';
