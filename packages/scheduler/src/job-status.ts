/** Where a queued job is: waiting, claimed by a worker, finished, failed for good, or dead-lettered. */
export type JobStatus = 'pending' | 'running' | 'done' | 'failed' | 'dead';
