export type {
  Goal,
  GoalInput,
  GoalStatus,
  HqAgentManager,
  HqBudgetLine,
  HqEvent,
  HqGateway,
  HqOptions,
  HqReport,
  PlannedTask,
  TaskCounts,
  TaskResult,
} from './hq.js';
export { createHq, Hq, PlannedTaskSchema, PlanSchema, parsePlan } from './hq.js';
