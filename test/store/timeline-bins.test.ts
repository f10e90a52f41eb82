import { describe, expect, it } from 'vitest';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { timelineBuckets, timelineRange } from '../../electron/api/queries';

/**
 * Wide timeline buckets are summed from the 100 ms bins written at ingest, narrow ones counted from the events.
 * Both must agree with the events themselves.
 */
const S = 1_000_000_000n;
function build(): { store: Store; caseId: number; t0: bigint; times: Map<number, bigint[]> } {
  const store = new Store(openDb(':memory:'));
  const c = store.createCase('bins');
  const t0 = 1_763_700_000n * S; // on a 100 ms boundary
  const times = new Map<number, bigint[]>();
  for (const [name, step] of [['a', 350_000_000n], ['b', 1_230_000_000n]] as const) {
    const h = store.upsertHost(c.id, { name });
    const art = store.putArtifact({ caseId: c.id, hostId: h.id, name, kind: 'text', source: 'import' }, Buffer.from('x'));
    const ts: bigint[] = [];
    store.ingestEvents(art, (insert) => {
      for (let k = 0; k < 1000; k++) {
        const t = t0 + BigInt(k) * step + 1_000_000n; // never exactly on a bin edge
        ts.push(t);
        insert({ kind: k % 2 ? 'kernel' : 'log', clock: 'host-wall', ts: t, level: k === 777 ? 'err' : 'info', text: `e${k}`, data: {} });
      }
      return { warnings: [] };
    });
    times.set(h.id, ts);
  }
  return { store, caseId: c.id, t0, times };
}

function expected(times: Map<number, bigint[]>, start: bigint, end: bigint, n: number): Map<string, number> {
  const width = (end - start + BigInt(n) - 1n) / BigInt(n);
  const out = new Map<string, number>();
  for (const [host, ts] of times) for (const t of ts) if (t >= start && t < end) {
    const k = `${host}|${(t - start) / width}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

function got(bk: ReturnType<typeof timelineBuckets>, start: bigint, end: bigint, n: number): Map<string, number> {
  const width = (end - start + BigInt(n) - 1n) / BigInt(n);
  const out = new Map<string, number>();
  for (const b of bk) {
    const k = `${b.hostId}|${(BigInt(b.startNs) - start) / width}`;
    out.set(k, (out.get(k) ?? 0) + b.count);
  }
  return out;
}

describe('timeline buckets from pre-counted bins', () => {
  it('wide buckets (from bins) and narrow ones (from events) both equal counts made from the events', () => {
    const { store, caseId, t0, times } = build();
    const range = timelineRange(store, caseId, true);
    const start = BigInt(range.startNs!) - (BigInt(range.startNs!) % 100_000_000n); // bin-aligned window start
    const end = BigInt(range.endNs!);
    // 2 s buckets (bins path: 20 whole bins each) over the whole case.
    const wideN = Number((end - start + 2n * S - 1n) / (2n * S));
    const wide = timelineBuckets(store, caseId, start, start + BigInt(wideN) * 2n * S, wideN, true);
    expect(got(wide, start, start + BigInt(wideN) * 2n * S, wideN)).toEqual(expected(times, start, start + BigInt(wideN) * 2n * S, wideN));
    // 0.5 s buckets (events path) over a 20 s window.
    const w0 = t0 + 100n * S;
    const narrow = timelineBuckets(store, caseId, w0, w0 + 20n * S, 40, true);
    expect(got(narrow, w0, w0 + 20n * S, 40)).toEqual(expected(times, w0, w0 + 20n * S, 40));
    // The highest level and single-event details survive the bins.
    expect(wide.some((b) => b.maxLevel === 'err')).toBe(true);
    const single = wide.find((b) => b.count === 1 && b.eventId !== undefined)!;
    expect(store.getEvent(single.eventId!)!.text).toBe(single.text);
  });

  it('re-ingesting an artifact replaces its bins, and deleting it removes them', () => {
    const { store, caseId } = build();
    const art = store.listArtifacts(caseId)[0]!;
    store.ingestEvents(art.id, (insert) => (insert({ kind: 'log', clock: 'host-wall', ts: 1_763_800_000n * S, text: 'only', data: {} }), { warnings: [] }));
    expect(store.db.prepare('SELECT sum(n) FROM event_bins WHERE artifact_id = ?').pluck().get(art.id)).toBe(1);
    store.db.prepare('DELETE FROM artifacts WHERE id = ?').run(art.id);
    expect(store.db.prepare('SELECT count(*) FROM event_bins WHERE artifact_id = ?').pluck().get(art.id)).toBe(0);
  });
});
