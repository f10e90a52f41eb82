/**
 * Unanswered calls of one conversation direction, by XID, in the order they were sent: what a
 * Map<number, Pending> gave the tracker (look-up, insert of a new XID, delete, oldest first, iteration in
 * insertion order), without a Map's cost here. Every call inserts and every reply deletes, and a JS Map
 * keeps deleted entries as holes until it rebuilds its table: a new table every few dozen RPCs per
 * conversation, plus probing that touched each candidate entry.
 *
 * Open addressing (Fibonacci hash of the XID, linear probing, load <= 1/2) with the XIDs in their own typed
 * array, so a probe reads no Pending object; deletion shifts the probe run back (Knuth 6.4, Algorithm R), so
 * there are no tombstones. Insertion order is a list threaded through the calls themselves.
 */

const GOLDEN = 0x9e3779b1;

/** What the table needs of a call: its XID and the two links of the insertion-order list. */
export interface Queued<T> {
  readonly xid: number;
  older: T | undefined;
  newer: T | undefined;
}

export class PendingCalls<T extends Queued<T>> {
  private keys = new Uint32Array(8);
  private slots: (T | undefined)[] = new Array<T | undefined>(8).fill(undefined);
  private shift = 29; // 32 - log2(capacity)
  private count = 0;
  private head: T | undefined; // oldest
  private tail: T | undefined; // newest

  get size(): number {
    return this.count;
  }

  /** The oldest call, or undefined. */
  oldest(): T | undefined {
    return this.head;
  }

  get(xid: number): T | undefined {
    const mask = this.slots.length - 1;
    for (let i = Math.imul(xid, GOLDEN) >>> this.shift; ; i = (i + 1) & mask) {
      const s = this.slots[i];
      if (s === undefined) return undefined;
      if (this.keys[i] === xid) return s;
    }
  }

  /** Add a call whose XID is not in the table (the tracker looks it up first). */
  add(p: T): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    this.place(p);
    this.count++;
    p.older = this.tail;
    p.newer = undefined;
    if (this.tail === undefined) this.head = p;
    else this.tail.newer = p;
    this.tail = p;
  }

  delete(p: T): void {
    const mask = this.slots.length - 1;
    let i = Math.imul(p.xid, GOLDEN) >>> this.shift;
    while (this.slots[i] !== p) {
      if (this.slots[i] === undefined) return; // not here
      i = (i + 1) & mask;
    }
    this.slots[i] = undefined;
    this.count--;
    // Move back any later entry of the run whose home slot is not cyclically within (i, j].
    for (let j = (i + 1) & mask; this.slots[j] !== undefined; j = (j + 1) & mask) {
      const k = Math.imul(this.keys[j], GOLDEN) >>> this.shift;
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      this.slots[i] = this.slots[j];
      this.keys[i] = this.keys[j];
      this.slots[j] = undefined;
      i = j;
    }
    if (p.older === undefined) this.head = p.newer;
    else p.older.newer = p.newer;
    if (p.newer === undefined) this.tail = p.older;
    else p.newer.older = p.older;
    p.older = p.newer = undefined;
    // A burst of unanswered calls must not pin a big table once it is answered (as a Map would shrink).
    if (this.slots.length > 64 && this.count * 8 < this.slots.length) this.resize(this.slots.length >>> 2);
  }

  /** The calls, oldest first (a snapshot: the table may be changed while it is walked). */
  values(): T[] {
    const out: T[] = [];
    for (let p = this.head; p !== undefined; p = p.newer) out.push(p);
    return out;
  }

  clear(): void {
    for (let p = this.head; p !== undefined; ) {
      const next = p.newer;
      p.older = p.newer = undefined;
      p = next;
    }
    this.keys = new Uint32Array(8);
    this.slots = new Array<T | undefined>(8).fill(undefined);
    this.shift = 29;
    this.count = 0;
    this.head = this.tail = undefined;
  }

  private place(p: T): void {
    const mask = this.slots.length - 1;
    let i = Math.imul(p.xid, GOLDEN) >>> this.shift;
    while (this.slots[i] !== undefined) i = (i + 1) & mask;
    this.slots[i] = p;
    this.keys[i] = p.xid;
  }

  private grow(): void {
    this.resize(this.slots.length * 2);
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.keys = new Uint32Array(capacity);
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
    this.shift = Math.clz32(capacity - 1);
    for (const p of old) if (p !== undefined) this.place(p);
  }
}
