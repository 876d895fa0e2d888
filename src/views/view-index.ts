/**
 * The in-memory index of one design document version: for each distinct map
 * function, every row it emitted, sorted in view order (`row-order.ts`), plus
 * the sequence of the last change it has seen.
 *
 * Rows are held in immutable snapshots: applying changes builds new arrays
 * (the kept rows, minus those of changed documents, merged with the new
 * rows, in O(rows + changes·log changes)) and swaps them in, so a query that
 * is still streaming an older snapshot is never disturbed by an update.
 * Changes are applied in one step per catch-up (`index-updater.ts`), so even
 * a first build of a large database merges once.
 *
 * Persistent on-disk indexes are a later step: today an index lives only in
 * memory and is rebuilt from the changes feed after a restart or eviction.
 */
import { invalidDesignDoc } from '../core/errors.js';
import type { JsonValue } from '../core/json-value.js';
import { builtinReduceOf } from './builtin-reduce.js';
import type { DesignDefinition, ViewDefinition } from './design.js';
import { type RowsReducer, rowsReducer } from './reduce.js';
import { type ViewRow, compareRows, mergeRows } from './row-order.js';
import { type DocEmits, ViewSandbox } from './sandbox.js';

export interface ViewIndexOptions {
  readonly timeoutMs: number;
  /** Receives `log()` output and view function exceptions. */
  readonly log: (message: string) => void;
}

export class ViewIndex {
  readonly design: DesignDefinition;
  readonly #sandbox: ViewSandbox;
  readonly #mapFunctions: readonly number[];
  readonly #reducers = new Map<string, RowsReducer>();
  /** One sorted snapshot per map source. */
  #rows: (readonly ViewRow[])[];
  /** The database sequence the index reflects. */
  updateSeq = 0;
  /** The database purge sequence the index reflects. */
  purgeSeq = 0;
  /** Whether the index has caught up with its database at least once. */
  built = false;

  /** Compiles every function of `design`; throws 400 `compilation_error` for one that does not compile. */
  constructor(design: DesignDefinition, options: ViewIndexOptions) {
    this.design = design;
    this.#sandbox = new ViewSandbox({ timeoutMs: options.timeoutMs, log: options.log, ...(design.lib ? { lib: design.lib } : {}) });
    const mapNames = new Map<number, string>();
    for (const view of design.views.values()) if (!mapNames.has(view.mapIndex)) mapNames.set(view.mapIndex, view.name);
    this.#mapFunctions = design.mapSources.map((source, index) => this.#sandbox.compile(source, 'map', mapNames.get(index) ?? ''));
    for (const view of design.views.values()) {
      if (view.reduce === undefined) continue;
      const builtin = view.reduce.startsWith('_');
      // Refused on save; a replicated design document may still carry one.
      if (builtin && builtinReduceOf(view.reduce) === undefined) throw invalidDesignDoc(`\`${view.reduce}\` is not a supported reduce function.`);
      const javascript = builtin ? undefined : { sandbox: this.#sandbox, funIndex: this.#sandbox.compile(view.reduce, 'reduce', view.name) };
      this.#reducers.set(view.name, rowsReducer(view.reduce, javascript));
    }
    this.#rows = design.mapSources.map(() => []);
  }

  /** The current snapshot of a view's rows (sorted; never changed afterwards). */
  rows(view: ViewDefinition): readonly ViewRow[] {
    return this.#rows[view.mapIndex] ?? [];
  }

  /** The reducer of a view with a reduce function. */
  reducer(view: ViewDefinition): RowsReducer | undefined {
    return this.#reducers.get(view.name);
  }

  /** Rows held, over all map functions. */
  get rowCount(): number {
    return this.#rows.reduce((sum, rows) => sum + rows.length, 0);
  }

  /** Runs every map function over documents given as JSON text (see `ViewSandbox.mapDocs`). */
  map(docsJson: readonly string[]): DocEmits[] {
    return this.#sandbox.mapDocs(docsJson, this.#mapFunctions);
  }

  /**
   * Replaces the rows of the documents in `changes` by what they emitted
   * (null: the document is gone, or not indexed). Builds new snapshots.
   */
  apply(changes: ReadonlyMap<string, DocEmits | null>): void {
    if (changes.size === 0) return;
    this.#rows = this.#rows.map((old, mapIndex) => {
      const kept = old.length === 0 ? old : old.filter((row) => !changes.has(row.id));
      const added: ViewRow[] = [];
      for (const [id, emits] of changes) {
        const emitted = emits?.[mapIndex];
        if (emitted === null || emitted === undefined) continue;
        emitted.forEach(([key, value]: readonly [JsonValue, JsonValue], emitIndex: number) => {
          added.push({ key, id, value, emitIndex });
        });
      }
      added.sort(compareRows);
      return mergeRows(kept, added);
    });
  }

  /** Forgets every row (the purge history no longer reaches back far enough). */
  reset(): void {
    this.#rows = this.#rows.map(() => []);
    this.updateSeq = 0;
    this.built = false;
  }
}
