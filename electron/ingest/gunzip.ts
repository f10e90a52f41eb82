/**
 * gzip decompression chunk by chunk, synchronously (ingest runs inside one SQLite transaction, so it cannot
 * await a zlib stream, and node:zlib's one-shot gunzipSync would hold the whole decompressed capture in memory).
 * Input goes in slices of at most SLICE bytes, so one slice's output is bounded (deflate expands at most ~1032×)
 * even for a decompression bomb. Concatenated gzip members (`cat a.gz b.gz`) are read as one stream, as gzip does.
 * fflate does not check the members' CRC-32: for the usual single-member file it is checked here, against the
 * trailer, so a damaged file is reported instead of silently decoded into wrong bytes.
 */
import { crc32 } from 'node:zlib';
import { Gunzip } from 'fflate';

const SLICE = 64 * 1024;

export interface GunzipProblem {
  /** 'truncated': the stream stops mid-member (what came before is yielded); 'corrupt': bad data from there on. */
  readonly kind: 'truncated' | 'corrupt';
  readonly message: string;
}

/** Decompressed bytes of a gzip stream given in chunks; a problem is reported once, after the readable part. */
export function* gunzipChunks(chunks: Iterable<Uint8Array>, onProblem: (p: GunzipProblem) => void): Generator<Uint8Array> {
  const out: Uint8Array[] = [];
  let crc = 0;
  let size = 0;
  let members = 0;
  const g = new Gunzip((data) => {
    if (data.length === 0) return;
    out.push(data);
    crc = crc32(data, crc);
    size += data.length;
  });
  g.onmember = () => void members++; // called for each member after the first
  /** The last 8 input bytes: the (last) member's CRC-32 and size modulo 2^32, little-endian. */
  const trailer = new Uint8Array(8);
  let seen = 0;
  try {
    for (const c of chunks) {
      for (let i = 0; i < c.length; i += SLICE) {
        g.push(c.subarray(i, Math.min(c.length, i + SLICE)), false);
        while (out.length > 0) yield out.shift()!;
      }
      if (c.length >= 8) trailer.set(c.subarray(c.length - 8));
      else {
        trailer.copyWithin(0, c.length);
        trailer.set(c, 8 - c.length);
      }
      seen += c.length;
    }
    g.push(new Uint8Array(0), true);
    while (out.length > 0) yield out.shift()!;
    const dv = new DataView(trailer.buffer);
    if (members === 0 && seen >= 18 && (dv.getUint32(0, true) !== crc >>> 0 || dv.getUint32(4, true) !== size % 2 ** 32)) {
      onProblem({ kind: 'corrupt', message: 'CRC-32 or length does not match the gzip trailer: the decompressed bytes are damaged' });
    }
  } catch (e) {
    while (out.length > 0) yield out.shift()!;
    const message = e instanceof Error ? e.message : String(e);
    onProblem({ kind: /unexpected EOF/i.test(message) ? 'truncated' : 'corrupt', message });
  }
}

/** The first `max` decompressed bytes (or fewer), for sniffing a file's format; undefined when it is not gzip. */
export function gunzipHead(bytes: Uint8Array, max: number): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let size = 0;
  let failed = false;
  const g = new Gunzip((data) => {
    parts.push(data);
    size += data.length;
  });
  try {
    for (let i = 0; i < bytes.length && size < max; i += 4096) g.push(bytes.subarray(i, Math.min(bytes.length, i + 4096)), false);
  } catch {
    failed = true;
  }
  if (failed && size === 0) return undefined;
  const all = new Uint8Array(Math.min(size, max));
  let o = 0;
  for (const p of parts) {
    if (o >= all.length) break;
    const n = Math.min(p.length, all.length - o);
    all.set(p.subarray(0, n), o);
    o += n;
  }
  return all;
}
