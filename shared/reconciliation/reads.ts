import type { Item, SourceRef } from './pair-graph.ts';

/**
 * The reconciliation read port: what the compare and replay use cases need of the stores. Reads are strongly
 * consistent — a pass that saw a replica lagging behind its own region's writes would replay what is not missing.
 */
export interface ReconciliationReads {
  /**
   * Every item of a source, page by page. A source that can may leave out items recorded after `until`; the
   * engine applies the window to every item in any case.
   */
  pages(source: SourceRef, until: Date): AsyncIterable<readonly Item[]>;
  /** Source items by id, as a replay re-reads them; ids no longer there are absent from the map. */
  read(source: SourceRef, ids: readonly string[]): Promise<ReadonlyMap<string, Item>>;
  /** Destination items by id; ids not stored are absent from the map. */
  lookup(table: string, ids: readonly string[]): Promise<ReadonlyMap<string, Item>>;
}
