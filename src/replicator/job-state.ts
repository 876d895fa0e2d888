/**
 * The states of a replication job and the only transitions between them.
 * The job reads the feed; each page becomes a batch that a bounded pipeline
 * diffs, fetches and writes while the job reads on (`batch-pipeline.ts`,
 * `batch-transfer.ts`), so these states are the reader's, and checkpoints
 * record only what the pipeline has fully written, in feed order.
 *
 *     starting → checking_peers → reading_checkpoint → fetching_changes
 *     fetching_changes → replicating        (a page arrived: it enters the pipeline)
 *                      → draining           (caught up, batches still in flight)
 *                      → checkpointing      (caught up, nothing in flight)
 *     replicating      → fetching_changes   (the pipeline has room for another page)
 *                      → checkpointing      (a checkpoint is due; batches keep going)
 *     draining         → checkpointing      (everything read is written)
 *     checkpointing    → fetching_changes   (periodic, more to read)
 *                      → waiting            (continuous and caught up)
 *                      → completed          (one-shot and caught up)
 *     waiting          → replicating | waiting  (long poll: changes, or a timeout)
 *                      → checkpointing      (a filtered feed moved on without rows)
 *     any non-final    → failed | cancelled
 */
export type JobState =
  | 'starting'
  | 'checking_peers'
  | 'reading_checkpoint'
  | 'fetching_changes'
  | 'replicating'
  | 'draining'
  | 'checkpointing'
  | 'waiting'
  | 'completed'
  | 'failed'
  | 'cancelled';

const next: Readonly<Record<JobState, readonly JobState[]>> = {
  starting: ['checking_peers'],
  checking_peers: ['reading_checkpoint'],
  reading_checkpoint: ['fetching_changes'],
  fetching_changes: ['replicating', 'draining', 'checkpointing'],
  replicating: ['fetching_changes', 'checkpointing'],
  draining: ['checkpointing'],
  checkpointing: ['fetching_changes', 'waiting', 'completed'],
  waiting: ['replicating', 'waiting', 'checkpointing'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function isFinal(state: JobState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

export function canTransition(from: JobState, to: JobState): boolean {
  if (isFinal(from)) return false;
  if (to === 'failed' || to === 'cancelled') return true;
  return next[from].includes(to);
}
