/**
 * The server's running background tasks, as `/_active_tasks` lists them
 * (compaction, indexing, replication fill it in later). In-memory and bounded.
 *
 * TODO(lead): producers live in `db/`, `query/` and `replicator/`, which must
 * not import `http/`; move this file to a shared place (e.g. `src/tasks.ts`)
 * when the first producer needs it. Only the composition root constructs it.
 */
export interface ActiveTask {
  /** CouchDB task fields: `type`, `database`, `progress`, `started_on`, `updated_on`, … */
  readonly [field: string]: unknown;
}

export class TaskRegistry {
  readonly #tasks = new Map<number, ActiveTask>();
  readonly #tasksMax: number;
  #nextId = 1;

  constructor(options: { tasksMax: number }) {
    this.#tasksMax = options.tasksMax;
  }

  /** Registers a task; returns its handle for `update` / `remove`. Throws past the bound. */
  add(task: ActiveTask): number {
    if (this.#tasks.size >= this.#tasksMax) throw new Error(`assertion failed: more than ${this.#tasksMax} active tasks`);
    const id = this.#nextId++;
    this.#tasks.set(id, task);
    return id;
  }

  update(id: number, task: ActiveTask): void {
    if (this.#tasks.has(id)) this.#tasks.set(id, task);
  }

  remove(id: number): void {
    this.#tasks.delete(id);
  }

  list(): ActiveTask[] {
    return [...this.#tasks.values()];
  }
}
