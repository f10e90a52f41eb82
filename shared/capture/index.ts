/**
 * Frame access for a viewer and "export slice to Wireshark":
 * - readPacketAt(capture, offset): the frame whose record/block starts at `offset` (RpcData.frameOffset).
 * - writePcapng(frames): a pcapng file (one SHB, one IDB per link type with if_tsresol = 9, EPBs).
 */
import { ContainerReader, type RawFrame } from './container/reader';

export interface CapturedFrame {
  readonly linkType: number;
  /** ns since epoch */
  readonly ts: bigint;
  readonly data: Uint8Array;
  readonly origLen: number;
}

/** A frame handed out by the container reader, copied so it outlives the callback. */
export function copyFrame(f: RawFrame): CapturedFrame {
  return { linkType: f.linkType, ts: BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec), data: f.data.slice(), origLen: f.origLen };
}

/**
 * The frame at byte offset `offset` of a (decompressed) capture, or undefined if no frame starts there.
 * pcapng: block headers are hopped from the start to find the section's interfaces (no frame is decoded).
 */
export function readPacketAt(capture: Uint8Array, offset: number): CapturedFrame | undefined {
  if (capture.length < 24 || offset < 0 || offset >= capture.length) return undefined;
  const be = (i: number): number => ((capture[i] << 24) | (capture[i + 1] << 16) | (capture[i + 2] << 8) | capture[i + 3]) >>> 0;
  const parts: Uint8Array[] = [];
  if (be(0) === 0x0a0d0d0a) {
    let pos = 0;
    let little = false;
    let section: Uint8Array[] = [];
    while (pos + 12 <= capture.length && pos < offset) {
      const dv = new DataView(capture.buffer, capture.byteOffset + pos, 12);
      if (dv.getUint32(0, false) === 0x0a0d0d0a) {
        little = dv.getUint32(8, false) === 0x4d3c2b1a;
        section = [];
      }
      const len = dv.getUint32(4, little);
      if (len < 12 || pos + len > capture.length) return undefined;
      const type = dv.getUint32(0, little);
      if (type === 0x0a0d0d0a || type === 1) section.push(capture.subarray(pos, pos + len));
      pos += len;
    }
    if (pos !== offset) return undefined;
    parts.push(...section);
    const dv = new DataView(capture.buffer, capture.byteOffset + offset, Math.min(12, capture.length - offset));
    if (dv.byteLength < 12) return undefined;
    const len = dv.getUint32(4, little);
    parts.push(capture.subarray(offset, offset + len));
  } else {
    if (offset < 24) return undefined;
    parts.push(capture.subarray(0, 24), capture.subarray(offset));
  }
  let found: CapturedFrame | undefined;
  const reader = new ContainerReader((f: RawFrame) => {
    if (found === undefined) {
      found = copyFrame(f);
    }
  });
  for (const p of parts) {
    reader.push(p);
    if (found) break;
  }
  return found;
}

/** Serialise frames as pcapng (little-endian, nanosecond timestamps). */
export function writePcapng(frames: readonly CapturedFrame[]): Uint8Array {
  const pad4 = (n: number): number => (n + 3) & ~3;
  const ifaces = new Map<number, number>();
  for (const f of frames) if (!ifaces.has(f.linkType)) ifaces.set(f.linkType, ifaces.size);
  let size = 28; // SHB without options
  size += ifaces.size * 32; // IDB with if_tsresol option + end of options
  for (const f of frames) size += 32 + pad4(f.data.length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = 0;
  // Section Header Block
  dv.setUint32(p, 0x0a0d0d0a, true);
  dv.setUint32(p + 4, 28, true);
  dv.setUint32(p + 8, 0x1a2b3c4d, true);
  dv.setUint16(p + 12, 1, true);
  dv.setUint16(p + 14, 0, true);
  dv.setInt32(p + 16, -1, true); // section length unknown
  dv.setInt32(p + 20, -1, true);
  dv.setUint32(p + 24, 28, true);
  p += 28;
  for (const lt of ifaces.keys()) {
    dv.setUint32(p, 1, true);
    dv.setUint32(p + 4, 32, true);
    dv.setUint16(p + 8, lt, true);
    dv.setUint32(p + 12, 262144, true);
    dv.setUint16(p + 16, 9, true); // if_tsresol
    dv.setUint16(p + 18, 1, true);
    out[p + 20] = 9; // 10^-9
    dv.setUint32(p + 24, 0, true); // opt_endofopt
    dv.setUint32(p + 28, 32, true);
    p += 32;
  }
  for (const f of frames) {
    const len = 32 + pad4(f.data.length);
    dv.setUint32(p, 6, true);
    dv.setUint32(p + 4, len, true);
    dv.setUint32(p + 8, ifaces.get(f.linkType) ?? 0, true);
    const ts = f.ts < 0n ? 0n : f.ts;
    dv.setUint32(p + 12, Number(ts >> 32n), true);
    dv.setUint32(p + 16, Number(ts & 0xffffffffn), true);
    dv.setUint32(p + 20, f.data.length, true);
    dv.setUint32(p + 24, Math.max(f.origLen, f.data.length), true);
    out.set(f.data, p + 28);
    dv.setUint32(p + len - 4, len, true);
    p += len;
  }
  return out;
}
