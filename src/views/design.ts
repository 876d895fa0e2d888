/**
 * The views of one design document, as the indexer and the query code see
 * them: each view's map source and optional reduce (a builtin such as
 * `_sum`, or JavaScript source), the `options` that change what is indexed
 * (`include_design`, `local_seq`), and a signature.
 *
 * The signature is a hash of everything that decides the index's content
 * (language, options, map and reduce sources, `views.lib`), not of the
 * document's revision: editing anything else in the design document keeps
 * the index, editing a view gives a fresh one, as CouchDB's view signature
 * does. Views with the same map source share their rows (one "map group"),
 * as CouchDB's views share a btree.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { orderedKeys } from '../core/json-order.js';
import { stringifyJson } from '../core/json-write.js';

export interface ViewDefinition {
  readonly name: string;
  /** Index of the view's map source in `DesignDefinition.mapSources`. */
  readonly mapIndex: number;
  /** Builtin name (`_sum`, …) or JavaScript source; absent for a map-only view. */
  readonly reduce?: string;
}

export interface DesignDefinition {
  /** `_design/…`. */
  readonly docId: string;
  readonly language: string;
  /** Distinct map sources, in order of first use. */
  readonly mapSources: readonly string[];
  readonly views: ReadonlyMap<string, ViewDefinition>;
  /** `options.include_design`: design documents are mapped too. */
  readonly includeDesign: boolean;
  /** `options.local_seq`: documents are mapped with `_local_seq`. */
  readonly localSeq: boolean;
  /** `views.lib`: CommonJS modules for `require('views/lib/…')`. */
  readonly lib?: JsonObject;
  /** 32 hex digits: equal for design documents whose indexes would be equal. */
  readonly signature: string;
}

/** The languages Settee can run; CouchDB also accepts design documents in others (they fail on query). */
export const supportedLanguage = 'javascript';

/** Reads the views of a design document body (already validated on save by `db/design-doc.ts`). */
export function readDesign(docId: string, body: JsonObject): DesignDefinition {
  const language = typeof body['language'] === 'string' ? body['language'] : supportedLanguage;
  const options = isJsonObject(body['options']) ? body['options'] : {};
  const viewsMember = isJsonObject(body['views']) ? body['views'] : {};
  const mapSources: string[] = [];
  const views = new Map<string, ViewDefinition>();
  for (const name of orderedKeys(viewsMember)) {
    const view = viewsMember[name];
    if (name === 'lib' || !isJsonObject(view) || typeof view['map'] !== 'string') continue;
    const map = view['map'];
    let mapIndex = mapSources.indexOf(map);
    if (mapIndex < 0) mapIndex = mapSources.push(map) - 1;
    const reduce = view['reduce'];
    views.set(name, typeof reduce === 'string' ? { name, mapIndex, reduce } : { name, mapIndex });
  }
  const lib = viewsMember['lib'];
  const definition = {
    docId,
    language,
    mapSources,
    views,
    includeDesign: options['include_design'] === true,
    localSeq: options['local_seq'] === true,
    ...(isJsonObject(lib) ? { lib } : {}),
  };
  return { ...definition, signature: signatureOf(definition) };
}

function signatureOf(design: Omit<DesignDefinition, 'signature'>): string {
  const views: JsonValue[] = [...design.views.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((view) => [view.name, design.mapSources[view.mapIndex] ?? '', view.reduce ?? null]);
  const material: JsonValue = [design.language, design.includeDesign, design.localSeq, views, design.lib ?? null];
  return createHash('md5').update(stringifyJson(material)).digest('hex');
}
