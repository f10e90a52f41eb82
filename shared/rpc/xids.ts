/**
 * Recently answered XIDs of one conversation direction (xid -> frame and capture time of the call's first
 * transmission), to recognise a call retransmitted after its reply (RFC 5531 §9: the XID is the caller's
 * duplicate-detection key) and to time its later reply from that first transmission, as tshark does.
 *
 * Two generations of at most `max` entries each: when the current one is full it becomes the previous one
 * and the old previous one is cleared and reused. A look-up sees the current generation first. This is the
 * behaviour two JS Maps rotated at `max` entries would have, without their cost: a Map look-up per call and
 * a set per reply was a fifth of the whole decode (hashing and probing boxed numbers in a table that is
 * reallocated as it grows). A generation here is typed arrays that start small and double, so a
 * conversation with few calls holds about a kilobyte.
 */

/** Fibonacci hashing (Knuth 6.4): the product's top bits spread sequential and strided XIDs alike. */
const GOLDEN = 0x9e3779b1;

/**
 * One generation: the answered (xid, frame, sec, nsec) entries in arrival order, a 4096-bit filter of their hashes, and a
 * hash index over the pairs built only when a look-up gets past the filter.
 *
 * Why this shape: a capture interleaves many conversations, so any per-conversation hash table is out of
 * cache when the next call or reply of that conversation comes, and probing it costs a memory stall per
 * message (most of what the rotated Maps cost). Appending a reply is a sequential write; looking up a new
 * call is nearly always settled by the 512-byte filter (clients number their calls sequentially, and the
 * Fibonacci hash spreads such runs, strided or not, over the filter). Only a real retransmission, a filter
 * false positive or a repeated XID reaches the index, which catches up with the pairs appended since.
 */
class Generation {
  /** [4i] xid, [4i+1] frame, [4i+2] seconds, [4i+3] nanoseconds of the i-th distinct XID. */
  private pairs = new Float64Array(32);
  size = 0;
  private readonly filter = new Int32Array(128);
  /** Open addressing over pair numbers + 1 (0 = free); covers pairs [0, indexed). */
  private index: Int32Array | undefined;
  private indexed = 0;

  private mayHave(xid: number): boolean {
    const f = Math.imul(xid, GOLDEN) >>> 20;
    return (this.filter[f >>> 5] & (1 << (f & 31))) !== 0;
  }

  /** Pair number of `xid`, or -1. */
  private find(xid: number): number {
    this.catchUp();
    const ix = this.index as Int32Array;
    const mask = ix.length - 1;
    let i = Math.imul(xid, GOLDEN) >>> Math.clz32(mask);
    for (;;) {
      const e = ix[i];
      if (e === 0) return -1;
      if (this.pairs[4 * (e - 1)] === xid) return e - 1;
      i = (i + 1) & mask;
    }
  }

  private catchUp(): void {
    if (this.index === undefined || this.index.length < 2 * this.size) {
      let cap = 16;
      while (cap < 2 * this.size) cap *= 2; // load <= 1/2
      this.index = new Int32Array(cap);
      this.indexed = 0;
    }
    const ix = this.index;
    const mask = ix.length - 1;
    const shift = Math.clz32(mask);
    for (; this.indexed < this.size; this.indexed++) {
      let i = Math.imul(this.pairs[4 * this.indexed], GOLDEN) >>> shift;
      while (ix[i] !== 0) i = (i + 1) & mask;
      ix[i] = this.indexed + 1;
    }
  }

  get(xid: number): number | undefined {
    if (!this.mayHave(xid)) return undefined;
    const n = this.find(xid);
    return n < 0 ? undefined : this.pairs[4 * n + 1];
  }

  /** Capture time of the entry for `xid` into out[0] (seconds) and out[1] (nanoseconds); false when absent. */
  time(xid: number, out: Float64Array): boolean {
    if (!this.mayHave(xid)) return false;
    const n = this.find(xid);
    if (n < 0) return false;
    out[0] = this.pairs[4 * n + 2];
    out[1] = this.pairs[4 * n + 3];
    return true;
  }

  set(xid: number, frame: number, sec: number, nsec: number): void {
    if (this.mayHave(xid)) {
      const n = this.find(xid);
      if (n >= 0) {
        this.pairs[4 * n + 1] = frame;
        this.pairs[4 * n + 2] = sec;
        this.pairs[4 * n + 3] = nsec;
        return;
      }
    }
    if (4 * this.size + 4 > this.pairs.length) {
      const next = new Float64Array(this.pairs.length * 2);
      next.set(this.pairs);
      this.pairs = next;
    }
    const o = 4 * this.size;
    this.pairs[o] = xid;
    this.pairs[o + 1] = frame;
    this.pairs[o + 2] = sec;
    this.pairs[o + 3] = nsec;
    this.size++;
    const f = Math.imul(xid, GOLDEN) >>> 20;
    this.filter[f >>> 5] |= 1 << (f & 31);
  }

  clear(): void {
    this.size = 0;
    this.indexed = 0;
    this.filter.fill(0);
    this.index?.fill(0);
  }
}

export class AnsweredXids {
  private cur: Generation | undefined;
  private prev: Generation | undefined;

  constructor(private readonly max = 1024) {}

  get(xid: number): number | undefined {
    if (this.cur === undefined) return undefined;
    const v = this.cur.get(xid);
    if (v !== undefined || this.prev === undefined) return v;
    return this.prev.get(xid);
  }

  /** Capture time of the answered call `xid` (see Generation.time). */
  time(xid: number, out: Float64Array): boolean {
    if (this.cur === undefined) return false;
    return this.cur.time(xid, out) || (this.prev !== undefined && this.prev.time(xid, out));
  }

  set(xid: number, frame: number, sec: number, nsec: number): void {
    if (this.cur === undefined) this.cur = new Generation();
    else if (this.cur.size >= this.max) {
      const reuse = this.prev;
      this.prev = this.cur;
      if (reuse === undefined) this.cur = new Generation();
      else {
        reuse.clear();
        this.cur = reuse;
      }
    }
    this.cur.set(xid, frame, sec, nsec);
  }
}
