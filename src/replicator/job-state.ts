/**
 * The states of a replication job and the only transitions between them.
 *
 *     starting → checking_peers → reading_checkpoint → fetching_changes
 *     fetching_changes → diffing            (a batch of changes arrived)
 *                      → checkpointing      (caught up)
 *     diffing          → fetching_docs      (the target lacks some revisions)
 *                      → fetching_changes | checkpointing   (nothing missing: batch done)
 *     fetching_docs    → writing            (one bounded chunk of documents)
 *     writing          → fetching_docs      (more chunks of this batch)
 *                      → fetching_changes | checkpointing   (batch done)
 *     checkpointing    → fetching_changes   (periodic, more to read)
 *                      → waiting            (continuous and caught up)
 *                      → completed          (one-shot and caught up)
 *     waiting          → diffing | waiting  (long poll: changes, or a timeout)
 *                      → checkpointing      (a filtered feed moved on without rows)
 *     any non-final    → failed | cancelled
 */
export type JobState =
  | 'starting'
  | 'checking_peers'
  | 'reading_checkpoint'
  | 'fetching_changes'
  | 'diffing'
  | 'fetching_docs'
  | 'writing'
  | 'checkpointing'
  | 'waiting'
  | 'completed'
  | 'failed'
  | 'cancelled';

const next: Readonly<Record<JobState, readonly JobState[]>> = {
  starting: ['checking_peers'],
  checking_peers: ['reading_checkpoint'],
  reading_checkpoint: ['fetching_changes'],
  fetching_changes: ['diffing', 'checkpointing'],
  diffing: ['fetching_docs', 'fetching_changes', 'checkpointing'],
  fetching_docs: ['writing'],
  writing: ['fetching_docs', 'fetching_changes', 'checkpointing'],
  checkpointing: ['fetching_changes', 'waiting', 'completed'],
  waiting: ['diffing', 'waiting', 'checkpointing'],
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
