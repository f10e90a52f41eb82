/**
 * XDR (RFC 4506) reader over a byte range of a Uint8Array. Big-endian, 4-byte aligned.
 * Reads past `end` throw XdrShort; the RPC decoder catches it once per message and marks the message truncated,
 * so program decoders can be written straight down the XDR definitions without length checks at every step.
 */
export class XdrShort extends Error {
  constructor() {
    super('XDR data ends early');
  }
}

/** Thrown as one shared instance: no stack capture per short read (fuzzed captures can have many). */
const SHORT = new XdrShort();

const HEX_DIGITS = new TextEncoder().encode('0123456789abcdef');
let hexScratch = new Uint8Array(512);

interface Interned<T> {
  readonly hash: number;
  readonly len: number;
  /** The bytes as little-endian 32-bit words, the last 0-3 bytes packed in `tail`. */
  readonly words: Int32Array;
  readonly tail: number;
  readonly value: T;
}

const FRONT = 4096;

/**
 * Byte strings seen again and again (file handles, credentials, owners) are interned: the same bytes give the
 * same string instance, so no new string per RPC and map look-ups reuse the string's cached hash.
 * Two generations bound the memory. Keyed by a hash of the bytes, confirmed by comparing the bytes.
 * Speed (this runs several times per RPC): the bytes are read once, 4 at a time, into words that both feed the
 * hash (FNV-1a over 32-bit words, then mixed, kept within 30 bits so the Map key is a small integer) and are
 * compared with the entry's stored words; a direct-mapped array of recent entries answers most look-ups
 * before the Maps; `find` then `add` spare the caller a closure per call.
 */
export class ByteInterner<T> {
  private cur = new Map<number, Interned<T>>();
  private prev = new Map<number, Interned<T>>();
  private readonly front: (Interned<T> | undefined)[] = new Array<Interned<T> | undefined>(FRONT).fill(undefined);
  /** Hash, length, words and tail of the bytes of the last `find`. */
  private hash = 0;
  private len = 0;
  private scratch = new Int32Array(64);
  private tail = 0;
  constructor(private readonly max = 16_384) {}

  /** The value interned for bytes[start, end), or undefined: then make it and `add` it for the same bytes. */
  find(b: Uint8Array, start: number, end: number): T | undefined {
    const n = end - start;
    const nw = n >>> 2;
    if (nw > this.scratch.length) this.scratch = new Int32Array(Math.max(nw, this.scratch.length * 2));
    const w = this.scratch;
    let h = 0x811c9dc5 ^ n;
    let i = start;
    for (let k = 0; k < nw; k++, i += 4) {
      const x = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
      w[k] = x;
      h = Math.imul(h ^ x, 0x01000193);
    }
    let tail = 0;
    for (let sh = 0; i < end; i++, sh += 8) {
      tail |= b[i] << sh;
      h = Math.imul(h ^ b[i], 0x01000193);
    }
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h = (h ^ (h >>> 12)) & 0x3fffffff;
    this.hash = h;
    this.len = n;
    this.tail = tail;
    const f = this.front[h & (FRONT - 1)];
    if (f !== undefined && f.hash === h && this.same(f)) return f.value;
    const e = this.cur.get(h) ?? this.prev.get(h);
    if (e === undefined || !this.same(e)) return undefined;
    this.front[h & (FRONT - 1)] = e;
    return e.value;
  }

  /** Intern `value` for the bytes of the preceding `find` (which missed). */
  add(value: T): T {
    if (this.cur.size >= this.max) {
      this.prev = this.cur;
      this.cur = new Map();
    }
    const e: Interned<T> = { hash: this.hash, len: this.len, words: this.scratch.slice(0, this.len >>> 2), tail: this.tail, value };
    this.cur.set(this.hash, e);
    this.front[this.hash & (FRONT - 1)] = e;
    return value;
  }

  get(b: Uint8Array, start: number, end: number, make: () => T): T {
    const v = this.find(b, start, end);
    return v !== undefined ? v : this.add(make());
  }

  private same(e: Interned<T>): boolean {
    if (e.len !== this.len || e.tail !== this.tail) return false;
    const w = this.scratch;
    const ew = e.words;
    for (let k = 0; k < ew.length; k++) if (ew[k] !== w[k]) return false;
    return true;
  }
}

const hexInterner = new ByteInterner<string>();

/** Interned lower-case hex of bytes[start, end). */
export function internHex(bytes: Uint8Array, start: number, end: number): string {
  const v = hexInterner.find(bytes, start, end);
  return v !== undefined ? v : hexInterner.add(hexOf(bytes, start, end));
}

/** Lower-case hex of bytes[start, end), built as one flat string (file handles are hashed as map keys). */
export function hexOf(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  if (n * 2 > hexScratch.length) hexScratch = new Uint8Array(n * 2);
  const out = hexScratch;
  for (let i = 0; i < n; i++) {
    const b = bytes[start + i];
    out[2 * i] = HEX_DIGITS[b >> 4];
    out[2 * i + 1] = HEX_DIGITS[b & 15];
  }
  return asciiOf(out, 0, n * 2);
}

/** One reusable array of char codes per length, for names and handles up to 128 bytes. */
const charCodes: number[][] = [];

/**
 * Bytes known to be ASCII (or to be read as Latin-1) as a string; short ones without TextDecoder's per-call
 * overhead, and through a reused array of char codes rather than a subarray per call (names are decoded on
 * most RPCs).
 */
function asciiOf(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 128) {
    let a = charCodes[n];
    if (a === undefined) a = charCodes[n] = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) a[i] = b[start + i];
    return String.fromCharCode.apply(null, a);
  }
  return latin1.decode(b.subarray(start, end));
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });

export class XdrReader {
  bytes: Uint8Array;
  pos: number;
  end: number;

  // No DataView: one is costly to create per message, and byte arithmetic is as fast for 4-byte reads.
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = Math.min(end, bytes.length);
  }

  /** Point the reader at another range (the tracker reuses one reader for every message body). */
  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.pos = start;
    this.end = Math.min(end, bytes.length);
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw SHORT;
    this.pos = p + 4;
    const b = this.bytes;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  i32(): number {
    return this.u32() | 0;
  }

  bool(): boolean {
    return this.u32() !== 0;
  }

  /** Unsigned hyper as a decimal string (offsets and lengths exceed 2^53: NLM4/NFSv4 "to EOF" is 2^64-1). */
  u64(): string {
    const hi = this.u32();
    const lo = this.u32();
    if (hi < 0x200000) return String(hi * 0x100000000 + lo);
    return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  /** Unsigned hyper as a JS number (lossy above 2^53; for sizes/cookies only used for skipping or display). */
  u64Number(): number {
    const hi = this.u32();
    const lo = this.u32();
    return hi * 0x100000000 + lo;
  }

  skip(n: number): void {
    // Lengths come from the wire (up to 2^32-1): no 32-bit bit tricks here.
    const padded = n + ((4 - (n % 4)) % 4);
    if (!(n >= 0) || this.pos + padded > this.end) throw SHORT;
    this.pos += padded;
  }

  /** Fixed-length opaque as hex. */
  fixedHex(n: number): string {
    const p = this.pos;
    this.skip(n);
    return internHex(this.bytes, p, p + n);
  }

  /** Variable-length opaque: returns its length and skips it. */
  skipOpaque(): number {
    const n = this.u32();
    this.skip(n);
    return n;
  }

  /** Variable-length opaque as hex, at most `max` bytes shown (the rest is skipped). */
  opaqueHex(max = 128): string {
    const n = this.u32();
    const p = this.pos;
    this.skip(n);
    return internHex(this.bytes, p, p + Math.min(n, max));
  }

  /** Variable-length string (XDR string<>): decoded as UTF-8, at most `max` bytes kept. */
  string(max = 1024): string {
    const n = this.u32();
    const p = this.pos;
    this.skip(n);
    const e = p + Math.min(n, max);
    const b = this.bytes;
    for (let i = p; i < e; i++) if (b[i] >= 0x80) return utf8.decode(b.subarray(p, e));
    return asciiOf(b, p, e);
  }

  /** Opaque owner names (lock owners, client owners) are often printable: show text when it is, hex otherwise. */
  owner(max = 128): string {
    const n = this.u32();
    const p = this.pos;
    this.skip(n);
    const m = Math.min(n, max);
    for (let i = p; i < p + m; i++) {
      const c = this.bytes[i];
      if (c < 0x20 || c > 0x7e) return hexOf(this.bytes, p, p + m);
    }
    return asciiOf(this.bytes, p, p + m);
  }

  /** bitmap4: count then words. Returns the words (small). */
  bitmap(): number[] {
    const n = this.u32();
    if (n > 64) throw SHORT;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.u32());
    return out;
  }

  /** Array count with a sanity bound so a corrupt count cannot make a loop run for billions of steps. */
  count(max = 1 << 20): number {
    const n = this.u32();
    if (n > max || n * 4 > this.end - this.pos + 4) throw SHORT;
    return n;
  }
}
