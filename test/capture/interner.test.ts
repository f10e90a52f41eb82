/**
 * ByteInterner: equal bytes give the interned value back, different bytes never do (whatever differs: a word,
 * the 1-3 trailing bytes, the length), across generations and after its recent-entry array is overwritten.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../fuzz/mutate';
import { ByteInterner, hexOf, internHex } from '../../shared/rpc/xdr';

const rng = mulberry32; // the fuzzers' seeded PRNG

describe('ByteInterner', () => {
  it('returns the value made for the same bytes, and only for them', () => {
    const r = rng(7);
    const interner = new ByteInterner<string>(64); // small generations: entries age out and are remade
    const made = new Map<string, number>();
    // Byte strings at odd offsets of a bigger buffer, lengths 0..41 (every tail length), many near-duplicates.
    const buf = new Uint8Array(256);
    for (let i = 0; i < 20000; i++) {
      for (let j = 0; j < buf.length; j++) buf[j] = r() < 0.9 ? j & 3 : Math.floor(r() * 4);
      const start = 1 + Math.floor(r() * 7);
      const end = start + Math.floor(r() * 42);
      const want = hexOf(buf, start, end);
      const got = interner.get(buf, start, end, () => {
        made.set(want, (made.get(want) ?? 0) + 1);
        return want;
      });
      expect(got).toBe(want);
    }
    // Repeated byte strings were mostly found, not remade.
    const remade = [...made.values()].reduce((a, b) => a + b, 0);
    expect(remade).toBeLessThan(20000 * 0.9);
  });

  it('internHex gives equal strings for equal bytes wherever they lie', () => {
    const a = new Uint8Array([9, 1, 2, 3, 4, 5, 6, 7]);
    const b = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 9, 9]);
    expect(internHex(a, 1, 8)).toBe('01020304050607');
    expect(internHex(b, 0, 7)).toBe('01020304050607');
    expect(internHex(b, 0, 8)).toBe('0102030405060709');
    expect(internHex(b, 1, 8)).toBe('02030405060709');
  });
});
