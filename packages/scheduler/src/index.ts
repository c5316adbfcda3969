export type {
  AgentProfile,
  AgentProfileInput,
  DispatchJob,
  DispatchJobInput,
  DispatchJobStatus,
  Distribution,
  DistributionStatus,
  JobConditions,
  RankWeights,
} from './dispatch-types.js';
export {
  AgentProfileInputSchema,
  DISPATCH_JOB_STATUSES,
  DISTRIBUTION_STATUSES,
  DispatchJobInputSchema,
  JobConditionsSchema,
} from './dispatch-types.js';
export type { DispatcherOptions, DispatchOutcome, JobSource, ResultScorer, RunAgent } from './dispatcher.js';
export { agentManagerRunner, Dispatcher } from './dispatcher.js';
export { errorText, InvalidCronError } from './errors.js';
export type { SchedulerEventMap, SchedulerEventName } from './events.js';
export type { HttpJobSourceOptions } from './http-job-source.js';
export { HttpJobSource } from './http-job-source.js';
export type { AddJobInput, AddResult, JobQueueOptions, StoredJob } from './job-queue.js';
export { JobQueue } from './job-queue.js';
export type { JobStatus } from './job-status.js';
export type { JobTracing } from './job-tracing.js';
export type { JobDefinition, JobHandlerContext, JobWorkerOptions, JobWorkerStats } from './job-worker.js';
export { JobWorker } from './job-worker.js';
export {
  AGENT_PROFILES_TABLE,
  DISPATCH_JOBS_TABLE,
  DISTRIBUTIONS_TABLE,
  JOBS_TABLE,
  SCHEDULES_TABLE,
  schedulerMigrations,
} from './migrations.js';
export type { RankedAgent } from './ranking.js';
export { matches, rankAgents, scoreAgent } from './ranking.js';
export type { ScheduleInput, ScheduleRecord, SchedulerOptions, TickData, TickTarget } from './scheduler.js';
export { nextCronRun, Scheduler } from './scheduler.js';
export type {
  AgentProfilesTable,
  DispatchJobsTable,
  DistributionsTable,
  JobsTable,
  SchedulerTables,
  SchedulesTable,
} from './scheduler-tables.js';
export { schedulerKysely } from './scheduler-tables.js';
