/**
 * Types for the part of PouchDB 9 the client tests use. Written here rather
 * than installing @types/pouchdb-core: that package pulls `lib="dom"` into the
 * whole compilation, which retypes Buffer and breaks `src/` (and it describes
 * PouchDB 7).
 */
declare module 'pouchdb-core' {
  namespace PouchDB {
    /** Opaque: what `PouchDB.plugin` accepts. */
    interface Plugin {
      readonly __pouchDbPlugin?: never;
    }

    interface Response {
      ok: boolean;
      id: string;
      rev: string;
    }

    interface ErrorRow {
      error: boolean | string;
      id?: string;
      status?: number;
      name?: string;
      message?: string;
      reason?: string;
    }

    interface DocMeta {
      _id: string;
      _rev: string;
      _deleted?: boolean;
      _conflicts?: string[];
      _revisions?: { start: number; ids: string[] };
      _revs_info?: Array<{ rev: string; status: string }>;
    }

    type ExistingDoc<Content> = Content & DocMeta;
    type NewDoc<Content> = Content & { _id?: string; _rev?: string; _deleted?: boolean };

    interface GetOptions {
      rev?: string;
      revs?: boolean;
      revs_info?: boolean;
      conflicts?: boolean;
      latest?: boolean;
    }

    type OpenRevResult<Content> = { ok: ExistingDoc<Content> } | { missing: string };

    interface DatabaseInfo {
      db_name: string;
      doc_count: number;
      update_seq: number | string;
      [key: string]: unknown;
    }

    interface AllDocsOptions {
      include_docs?: boolean;
      conflicts?: boolean;
      keys?: string[];
      startkey?: string;
      endkey?: string;
      inclusive_end?: boolean;
      descending?: boolean;
      limit?: number;
      skip?: number;
    }

    interface AllDocsRow<Content> {
      id: string;
      key: string;
      value: { rev: string; deleted?: boolean };
      doc?: ExistingDoc<Content> | null;
    }

    interface AllDocsResponse<Content> {
      total_rows: number;
      offset: number;
      rows: Array<AllDocsRow<Content>>;
    }

    interface ChangesOptions {
      since?: number | string;
      limit?: number;
      include_docs?: boolean;
      live?: boolean;
      heartbeat?: number | false;
      timeout?: number | false;
      doc_ids?: string[];
      style?: 'main_only' | 'all_docs';
    }

    interface Change<Content> {
      id: string;
      seq: number | string;
      changes: Array<{ rev: string }>;
      deleted?: boolean;
      doc?: ExistingDoc<Content>;
    }

    interface ChangesResponse<Content> {
      results: Array<Change<Content>>;
      last_seq: number | string;
      status?: string;
    }

    interface Changes<Content> extends PromiseLike<ChangesResponse<Content>> {
      on(event: 'change', listener: (change: Change<Content>) => void): this;
      on(event: 'complete', listener: (info: ChangesResponse<Content>) => void): this;
      on(event: 'error', listener: (error: unknown) => void): this;
      cancel(): void;
    }

    interface BulkGetOptions {
      docs: Array<{ id: string; rev?: string }>;
      revs?: boolean;
      latest?: boolean;
    }

    interface BulkGetResponse<Content> {
      results: Array<{ id: string; docs: Array<{ ok: ExistingDoc<Content> } | { error: ErrorRow }> }>;
    }

    type RevsDiffResponse = Record<string, { missing: string[]; possible_ancestors?: string[] }>;

    interface ReplicationResult {
      ok: boolean;
      docs_read: number;
      docs_written: number;
      doc_write_failures: number;
      errors: unknown[];
      status: string;
    }

    interface Database<Content extends object = object> {
      info(): Promise<DatabaseInfo>;
      put(doc: NewDoc<Content> & { _id: string }): Promise<Response>;
      post(doc: NewDoc<Content>): Promise<Response>;
      get(id: string, options?: GetOptions): Promise<ExistingDoc<Content>>;
      get(id: string, options: GetOptions & { open_revs: 'all' | string[] }): Promise<Array<OpenRevResult<Content>>>;
      remove(doc: { _id: string; _rev: string }): Promise<Response>;
      remove(id: string, rev: string): Promise<Response>;
      bulkDocs(docs: Array<NewDoc<Content>>, options?: { new_edits?: boolean }): Promise<Array<Response | ErrorRow>>;
      allDocs(options?: AllDocsOptions): Promise<AllDocsResponse<Content>>;
      changes(options?: ChangesOptions): Changes<Content>;
      revsDiff(diff: Record<string, string[]>): Promise<RevsDiffResponse>;
      bulkGet(options: BulkGetOptions): Promise<BulkGetResponse<Content>>;
      destroy(): Promise<{ ok: boolean }>;
      close(): Promise<void>;
    }

    interface Static {
      new <Content extends object = object>(name: string, options?: Record<string, unknown>): Database<Content>;
      plugin(plugin: Plugin): Static;
      replicate<Content extends object>(
        source: Database<Content>,
        target: Database<Content>,
        options?: Record<string, unknown>,
      ): Promise<ReplicationResult>;
    }
  }
  const PouchDB: PouchDB.Static;
  export = PouchDB;
}

declare module 'pouchdb-adapter-http' {
  const plugin: import('pouchdb-core').Plugin;
  export = plugin;
}

declare module 'pouchdb-adapter-memory' {
  const plugin: import('pouchdb-core').Plugin;
  export = plugin;
}

declare module 'pouchdb-replication' {
  const plugin: import('pouchdb-core').Plugin;
  export = plugin;
}
