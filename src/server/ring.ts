/**
 * A fixed-size ring of items numbered by a sequence. Readers (web viewers) keep the last
 * sequence they saw and ask for what came after it, so the writer never tracks its readers
 * and a reader that fell behind learns it missed items instead of stalling the writer.
 */

/** One stored item with its sequence number (1, 2, 3, ... in push order). */
export interface Sequenced<T> {
  readonly seq: number;
  readonly item: T;
}

/** What a reader gets back from `since`. */
export interface SinceResult<T> {
  readonly items: readonly Sequenced<T>[];
  /** True when items after the reader's cursor were overwritten before it read them. */
  readonly missed: boolean;
}

/** Bounded, overwrite-oldest buffer with sequence numbers; push is O(1). */
export class SeqRing<T> {
  private readonly slots: (Sequenced<T> | undefined)[];
  private nextSeq = 1;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<Sequenced<T> | undefined>(capacity);
  }

  /** Stores an item, overwriting the oldest when full; returns its sequence number. */
  push(item: T): number {
    const seq = this.nextSeq++;
    this.slots[seq % this.capacity] = { seq, item };
    return seq;
  }

  /** Sequence number of the newest item (0 when empty). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Sequence number of the oldest item still stored (lastSeq + 1 when empty). */
  get firstSeq(): number {
    return Math.max(1, this.nextSeq - this.capacity);
  }

  /** Number of items stored. */
  get size(): number {
    return this.lastSeq - this.firstSeq + 1;
  }

  /** Items with a sequence number greater than `afterSeq`, oldest first. */
  since(afterSeq: number): SinceResult<T> {
    const from = Math.max(afterSeq + 1, this.firstSeq);
    const items: Sequenced<T>[] = [];
    for (let seq = from; seq <= this.lastSeq; seq++) {
      const slot = this.slots[seq % this.capacity];
      if (slot) items.push(slot);
    }
    return { items, missed: afterSeq + 1 < this.firstSeq };
  }

  /** All stored items, oldest first. */
  toArray(): T[] {
    return this.since(0).items.map((s) => s.item);
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.slots[this.lastSeq % this.capacity]?.item;
  }
}
