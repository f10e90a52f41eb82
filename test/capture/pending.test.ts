/**
 * PendingCalls must behave like the Map<number, Pending> it replaced in the tracker: look-up by XID, insert,
 * delete, the oldest call first, iteration in insertion order. Compared against a Map over random operation
 * mixes (sequential, strided, colliding and random XIDs; deletes anywhere in a probe run).
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../fuzz/mutate';
import { PendingCalls, type Queued } from '../../shared/rpc/pending';

interface Call extends Queued<Call> {
  readonly xid: number;
  readonly n: number;
}

const rng = mulberry32; // the fuzzers' seeded PRNG

function run(seed: number, xidOf: (i: number, r: () => number) => number, steps: number, maxLive: number): void {
  const r = rng(seed);
  const model = new Map<number, Call>();
  const ours = new PendingCalls<Call>();
  for (let i = 0; i < steps; i++) {
    const op = r();
    if (op < 0.5 || model.size === 0) {
      // A call: the tracker looks the XID up first and adds only a new one (evicting the oldest at the bound).
      const xid = xidOf(i, r) >>> 0;
      expect(ours.get(xid)).toBe(model.get(xid));
      if (model.has(xid)) continue;
      if (model.size >= maxLive) {
        const oldest = model.values().next().value as Call;
        expect(ours.oldest()).toBe(oldest);
        model.delete(oldest.xid);
        ours.delete(oldest);
      }
      const c: Call = { xid, n: i, older: undefined, newer: undefined };
      model.set(xid, c);
      ours.add(c);
    } else {
      // A reply: any pending call, often not the oldest.
      const all = [...model.values()];
      const c = all[Math.floor(r() * all.length)];
      expect(ours.get(c.xid)).toBe(c);
      model.delete(c.xid);
      ours.delete(c);
      expect(ours.get(c.xid)).toBeUndefined();
    }
    expect(ours.size).toBe(model.size);
    if (i % 97 === 0) expect(ours.values()).toEqual([...model.values()]);
  }
  expect(ours.values()).toEqual([...model.values()]);
  ours.clear();
  expect(ours.size).toBe(0);
  expect(ours.values()).toEqual([]);
}

describe('PendingCalls', () => {
  it('matches a Map for sequential and strided XIDs', () => {
    run(1, (i) => 0xfffffff0 + i, 4000, 64);
    run(2, (i) => 0x20000000 + 64 * i, 4000, 1000);
  });

  it('matches a Map for random and colliding XIDs, with eviction of the oldest', () => {
    run(3, (_i, r) => Math.floor(r() * 2 ** 32), 4000, 300);
    run(4, (_i, r) => Math.floor(r() * 200), 6000, 50); // few distinct XIDs: repeats and long probe runs
  });

  it('stays correct through a burst and its drain (the table grows, then shrinks)', () => {
    const r = rng(5);
    const ours = new PendingCalls<Call>();
    const model = new Map<number, Call>();
    for (let i = 0; i < 5000; i++) {
      const c: Call = { xid: (0x7fff0000 + i * 3) >>> 0, n: i, older: undefined, newer: undefined };
      model.set(c.xid, c);
      ours.add(c);
    }
    const order = [...model.values()].sort(() => r() - 0.5);
    for (const c of order.slice(0, 4990)) {
      model.delete(c.xid);
      ours.delete(c);
    }
    expect(ours.size).toBe(10);
    expect(ours.values()).toEqual([...model.values()]);
    for (const c of order) expect(ours.get(c.xid)).toBe(model.get(c.xid));
  });
});
