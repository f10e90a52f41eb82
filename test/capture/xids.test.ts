/**
 * AnsweredXids must behave exactly like the two rotated Maps it replaced (tracker: `cur.get(x) ?? prev.get(x)`,
 * and before each set, `cur` becomes `prev` once it holds `max` XIDs), so retransmission detection is unchanged.
 * Compared against that model over XID patterns a capture produces: sequential, strided (a counter shared by
 * several connections), repeated (retransmissions) and random.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../fuzz/mutate';
import { AnsweredXids } from '../../shared/rpc/xids';

class MapModel {
  cur = new Map<number, number>();
  prev = new Map<number, number>();
  constructor(private readonly max: number) {}
  get(x: number): number | undefined {
    return this.cur.get(x) ?? this.prev.get(x);
  }
  set(x: number, v: number): void {
    if (this.cur.size >= this.max) {
      this.prev = this.cur;
      this.cur = new Map();
    }
    this.cur.set(x, v);
  }
}

const rng = mulberry32; // the fuzzers' seeded PRNG

function compare(max: number, xidAt: (i: number, r: () => number) => number, n: number, seed: number): number {
  const r = rng(seed);
  const model = new MapModel(max);
  const ours = new AnsweredXids(max);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const x = xidAt(i, r) >>> 0;
    // A call: look the XID up; its reply: record it (frame numbers grow like a capture's).
    const want = model.get(x);
    expect(ours.get(x)).toBe(want);
    // The first transmission's capture time comes back with it (here derived from the frame number).
    const t = new Float64Array(2);
    expect(ours.time(x, t)).toBe(want !== undefined);
    if (want !== undefined) expect([t[0], t[1]]).toEqual([1_800_000_000 + want, (want * 7919) % 1e9]);
    if (want !== undefined) hits++;
    // Unrelated look-ups must agree too (filter false positives, absent XIDs).
    const probe = (x + 1 + Math.floor(r() * 5000)) >>> 0;
    expect(ours.get(probe)).toBe(model.get(probe));
    model.set(x, i + 1);
    ours.set(x, i + 1, 1_800_000_000 + i + 1, ((i + 1) * 7919) % 1e9);
  }
  return hits;
}

describe('AnsweredXids', () => {
  it('matches the rotated-Map model for sequential XIDs', () => {
    expect(compare(1024, (i) => 0xfffff000 + i, 6000, 1)).toBe(0); // wraps past 2^32
  });

  it('matches for strided XIDs (one counter shared by 64 connections)', () => {
    compare(1024, (i) => 0x20000000 + 64 * i, 6000, 2);
    compare(1024, (i) => 0x20000000 + 4096 * i, 6000, 3);
  });

  it('matches when XIDs repeat (retransmissions after the reply, within and beyond two generations)', () => {
    const hits = compare(64, (i, r) => (r() < 0.3 ? 0x1000 + Math.floor(r() * 300) : 0x1000 + i), 5000, 4);
    expect(hits).toBeGreaterThan(100);
  });

  it('matches for random XIDs and small generations', () => {
    compare(1024, (_i, r) => Math.floor(r() * 2 ** 32), 5000, 5);
    const hits = compare(8, (_i, r) => Math.floor(r() * 40), 2000, 6);
    expect(hits).toBeGreaterThan(100);
  });
});
