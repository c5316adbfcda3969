import { z } from 'zod';

/** The job type of a goal waiting for (or being given) its plan. */
export const PLAN = 'hq.plan';
/** The job type of one planned task. */
export const TASK = 'hq.task';

export const PlannedTaskSchema = z.object({
  title: z.string().min(1),
  description: z.string().optional(),
  role: z.string().min(1).optional(),
  tags: z.array(z.string()).optional(),
  category: z.string().optional(),
});
export const PlanSchema = z.object({ tasks: z.array(PlannedTaskSchema).min(1).max(50) });
export type PlannedTask = z.infer<typeof PlannedTaskSchema>;
export type Plan = z.infer<typeof PlanSchema>;

/** The payload of a {@link PLAN} job: the goal as added. */
export const PlanJobSchema = z.object({
  goal: z.object({
    id: z.string(),
    text: z.string(),
    priority: z.number(),
    deadline: z.number().optional(),
    createdAt: z.number(),
  }),
});
export type PlanJob = z.infer<typeof PlanJobSchema>;

/** The payload of a {@link TASK} job: the planned task with its goal. */
export const TaskJobSchema = PlannedTaskSchema.extend({
  goalId: z.string(),
  taskId: z.string(),
  deadline: z.number().optional(),
});
export type TaskJob = z.infer<typeof TaskJobSchema>;

/** A copy without the `undefined` fields: what a JSON column would store anyway, kept comparable. */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
