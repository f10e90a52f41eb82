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

/**
 * Byte strings seen again and again (file handles, credentials, owners) are interned: the same bytes give the
 * same string instance, so no new string per RPC and map look-ups reuse the string's cached hash.
 * Two generations bound the memory. Keyed by FNV-1a of the bytes, confirmed by comparing the bytes.
 */
export class ByteInterner<T> {
  private cur = new Map<number, { bytes: Uint8Array; value: T }>();
  private prev = new Map<number, { bytes: Uint8Array; value: T }>();
  constructor(private readonly max = 16_384) {}

  get(b: Uint8Array, start: number, end: number, make: () => T): T {
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
    const e = this.cur.get(h) ?? this.prev.get(h);
    if (e !== undefined && e.bytes.length === end - start) {
      let same = true;
      for (let i = 0; i < e.bytes.length; i++) {
        if (e.bytes[i] !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return e.value;
    }
    const value = make();
    if (this.cur.size >= this.max) {
      this.prev = this.cur;
      this.cur = new Map();
    }
    this.cur.set(h, { bytes: b.slice(start, end), value });
    return value;
  }
}

const hexInterner = new ByteInterner<string>();

/** Interned lower-case hex of bytes[start, end). */
export function internHex(bytes: Uint8Array, start: number, end: number): string {
  return hexInterner.get(bytes, start, end, () => hexOf(bytes, start, end));
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

/** Bytes known to be ASCII as a string; short ones without TextDecoder's per-call overhead. */
function asciiOf(b: Uint8Array, start: number, end: number): string {
  if (end - start <= 128) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  return latin1.decode(b.subarray(start, end));
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });

export class XdrReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  // No DataView: one is costly to create per message, and byte arithmetic is as fast for 4-byte reads.
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = Math.min(end, bytes.length);
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
