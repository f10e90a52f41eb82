/**
 * Deterministic input mutation for fuzzing the parsers and the capture decoder.
 *
 * Every input is derived from (run seed, target, index) alone, so a failure report such as
 * `FUZZ_SEED=12345 FUZZ_ONLY=perf FUZZ_INDEX=77` rebuilds exactly the failing bytes without replaying the run.
 */

/** mulberry32: a small, fast 32-bit PRNG with good enough statistics for choosing mutations. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the parts, to derive one independent PRNG seed per (run seed, target, index). */
export function deriveSeed(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = `${String(p)}\u0000`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from empty list');
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const enc = new TextEncoder();

/** Numbers at the edges of the integer types parsers meet (int32, uint32, int64, uint64, JS safe integers). */
export const BOUNDARY_NUMBERS = [
  '0', '-1', '-0', '1', '2147483647', '2147483648', '-2147483648', '4294967295', '4294967296', '9007199254740993',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '18446744073709551615', '18446744073709551616',
  '99999999999999999999999999999999', '1e308', '1e-308', 'NaN', 'Infinity', '0x7fffffff', '0xffffffffffffffff',
  '00000000000000000000000000000000001', '3.', '.5', '1.000000000000000000001',
] as const;

/** Terminal escapes and control characters that hostile or colourised logs contain. */
export const ESCAPES = [
  '\u001b[31m', '\u001b[0m', '\u001b[1;33;41m', '\u001b[2J', '\u001b[K', '\u001b]0;title\u0007', '\u001b]8;;http://x\u001b\\',
  '\r', '\t', '\u0000', '\u007f', '\u0085', '\u2028', '\ufeff', '\ufffd',
] as const;

/** Byte sequences that are not valid UTF-8 (lone continuation, overlong, surrogate, truncated multi-byte). */
const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xff], [0xfe], [0x80], [0xc0, 0x80], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98],
];

export type Mutator = (input: Uint8Array, rng: Rng, donors: readonly Uint8Array[]) => Uint8Array;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function splitLines(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a) {
      out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  out.push(b.subarray(start));
  return out;
}

function joinLines(lines: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const nl = new Uint8Array([0x0a]);
  lines.forEach((l, i) => {
    if (i > 0) parts.push(nl);
    parts.push(l);
  });
  return concat(parts);
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.chance(0.3) ? rng.pick([0, 0x0a, 0x0d, 0x1b, 0x20, 0x25, 0x5b, 0x5d, 0x7c, 0xff]) : rng.int(256);
  return out;
}

const bitFlip: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const out = b.slice();
  const flips = 1 + rng.int(Math.max(1, Math.floor(b.length / 200)));
  for (let i = 0; i < flips; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
};

const byteInsert: Mutator = (b, rng) => {
  const at = rng.int(b.length + 1);
  return concat([b.subarray(0, at), randomBytes(rng, 1 + rng.int(16)), b.subarray(at)]);
};

const byteDelete: Mutator = (b, rng) => {
  if (b.length === 0) return b;
  const at = rng.int(b.length);
  const n = 1 + rng.int(Math.min(64, b.length - at));
  return concat([b.subarray(0, at), b.subarray(at + n)]);
};

const truncate: Mutator = (b, rng) => b.slice(0, rng.int(b.length + 1));

const duplicateLine: Mutator = (b, rng) => {
  const lines = splitLines(b);
  const i = rng.int(lines.length);
  const copies = rng.chance(0.1) ? 500 + rng.int(1500) : 1 + rng.int(3);
  const out = lines.slice(0, i + 1);
  for (let k = 0; k < copies; k++) out.push(lines[i]);
  return joinLines([...out, ...lines.slice(i + 1)]);
};

const swapLines: Mutator = (b, rng) => {
  const lines = splitLines(b);
  if (lines.length < 2) return b;
  const i = rng.int(lines.length);
  const j = rng.int(lines.length);
  [lines[i], lines[j]] = [lines[j], lines[i]];
  return joinLines(lines);
};

const deleteLines: Mutator = (b, rng) => {
  const lines = splitLines(b);
  const i = rng.int(lines.length);
  lines.splice(i, 1 + rng.int(5));
  return joinLines(lines);
};

/** A line far beyond MAX_LINE (64 KiB), made of a repeated fragment of the input or of one character. */
const hugeLine: Mutator = (b, rng) => {
  const lines = splitLines(b);
  const i = rng.int(lines.length);
  const size = 70_000 + rng.int(130_000);
  const src = lines[i].length > 0 && rng.chance(0.6) ? lines[i] : enc.encode(rng.pick([' ', 'a', '-', '|', '[', '0', '%', '() ', ' a: q:', '--1.0%--']));
  const big = new Uint8Array(size);
  for (let o = 0; o < size; o += src.length) big.set(src.subarray(0, Math.min(src.length, size - o)), o);
  lines.splice(i, 0, big);
  return joinLines(lines);
};

const garbage: Mutator = (b, rng) => {
  const at = rng.int(b.length + 1);
  const parts: Uint8Array[] = [b.subarray(0, at)];
  const n = 1 + rng.int(6);
  for (let k = 0; k < n; k++) {
    const c = rng.int(3);
    if (c === 0) parts.push(new Uint8Array(rng.pick(INVALID_UTF8)));
    else if (c === 1) parts.push(new Uint8Array(1 + rng.int(32))); // NUL run
    else parts.push(randomBytes(rng, 1 + rng.int(256)));
  }
  parts.push(b.subarray(at));
  return concat(parts);
};

const NUMBER = /-?\d+(?:\.\d+)?/g;

const numericBoundary: Mutator = (b, rng) => {
  const text = new TextDecoder('utf-8').decode(b);
  const spots = [...text.matchAll(NUMBER)];
  if (spots.length === 0) return b;
  let out = text;
  const n = 1 + rng.int(Math.min(8, spots.length));
  // Replace from the end so earlier indices stay valid.
  const chosen = Array.from({ length: n }, () => rng.pick(spots)).sort((x, y) => (y.index ?? 0) - (x.index ?? 0));
  let last = Number.POSITIVE_INFINITY;
  for (const m of chosen) {
    const at = m.index ?? 0;
    if (at + m[0].length > last) continue;
    out = out.slice(0, at) + rng.pick(BOUNDARY_NUMBERS) + out.slice(at + m[0].length);
    last = at;
  }
  return enc.encode(out);
};

const ansi: Mutator = (b, rng) => {
  const text = new TextDecoder('utf-8').decode(b);
  let out = text;
  const n = 1 + rng.int(6);
  for (let k = 0; k < n; k++) {
    const at = rng.int(out.length + 1);
    out = out.slice(0, at) + rng.pick(ESCAPES) + out.slice(at);
  }
  return enc.encode(out);
};

const lineEndings: Mutator = (b, rng) => {
  const text = new TextDecoder('utf-8').decode(b);
  const mode = rng.int(3);
  return enc.encode(mode === 0 ? text.replace(/\n/g, '\r\n') : mode === 1 ? text.replace(/\n/g, '\r') : text.replace(/ {2,}/g, '\t'));
};

/** Lines of another real artifact spliced in: formats meeting each other's state machines. */
const splice: Mutator = (b, rng, donors) => {
  if (donors.length === 0) return b;
  const d = splitLines(rng.pick(donors));
  const from = rng.int(d.length);
  const piece = d.slice(from, from + 1 + rng.int(20));
  const lines = splitLines(b);
  lines.splice(rng.int(lines.length + 1), 0, ...piece);
  return joinLines(lines);
};

/** Deep indentation and long runs of blanks: stresses column-based layouts (perf call graphs, ps tables). */
const indent: Mutator = (b, rng) => {
  const lines = splitLines(b);
  const n = 1 + rng.int(Math.min(50, lines.length));
  for (let k = 0; k < n; k++) {
    const i = rng.int(lines.length);
    const pad = enc.encode(' '.repeat(rng.chance(0.2) ? 2000 + rng.int(8000) : rng.int(200)));
    lines[i] = concat([pad, lines[i]]);
  }
  return joinLines(lines);
};

export const MUTATORS: Readonly<Record<string, Mutator>> = {
  bitFlip, byteInsert, byteDelete, truncate, duplicateLine, swapLines, deleteLines, hugeLine, garbage, numericBoundary,
  ansi, lineEndings, splice, indent,
};

/** Byte-level mutators only, for binary inputs (captures): line mutators mean nothing there. */
export const BYTE_MUTATORS: Readonly<Record<string, Mutator>> = { bitFlip, byteInsert, byteDelete, truncate, garbage };

export interface Mutant {
  readonly bytes: Uint8Array;
  /** Mutator names applied, in order (for the failure report). */
  readonly steps: readonly string[];
}

/** Apply 1..maxSteps mutators chosen by rng. */
export function mutate(
  seed: Uint8Array, rng: Rng, donors: readonly Uint8Array[], set: Readonly<Record<string, Mutator>> = MUTATORS, maxSteps = 4,
): Mutant {
  const names = Object.keys(set);
  const steps: string[] = [];
  let b = seed;
  const n = 1 + rng.int(maxSteps);
  for (let k = 0; k < n; k++) {
    const name = rng.pick(names);
    steps.push(name);
    b = set[name](b, rng, donors);
    // Keep inputs bounded so one case cannot eat the time budget by sheer size (hugeLine adds at most ~200 KB).
    if (b.length > 1_500_000) b = b.subarray(0, 1_500_000);
  }
  return { bytes: b, steps };
}

// The run environment (FUZZ_SEED, FUZZ_N, FUZZ_ONLY, FUZZ_INDEX) is read, strictly, by harness-env.ts.
