/**
 * Streaming pcap / pcapng block reader. Bytes arrive in chunks of any size; every frame is handed out as a
 * range of the chunk (valid only during the callback), so nothing is copied except the one block that
 * straddles two chunks. The format is detected from the first bytes (magic numbers), never from a file name:
 *   pcap   (tcpdump.org/manpages/pcap-savefile.5): a1b2c3d4 (us) / a1b23c4d (ns), either byte order.
 *   pcapng (IETF draft-ietf-opsawg-pcapng): SHB 0a0d0d0a with byte-order magic 1a2b3c4d; IDB carries the link
 *   type and if_tsresol (option 9); EPB (6), SPB (3) and the obsolete Packet Block (2) carry frames.
 */

export interface RawFrame {
  /** 1-based frame number, counting every packet block like Wireshark does. */
  readonly number: number;
  readonly linkType: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  /** Captured bytes (a view into the current chunk: copy what must outlive the callback). */
  readonly data: Uint8Array;
  /** The same bytes as bytes[start, end), without creating a view (the decoder's per-frame path). */
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly origLen: number;
  /** Byte offset of this frame's record/block in the (decompressed) capture. */
  readonly offset: number;
  readonly interfaceId: number;
}

/**
 * The one frame object a reader hands out, refilled for every frame (the frame is only valid during the
 * callback anyway): no object and no subarray per frame, which were a tenth of the decode of small frames.
 */
class FrameSlot implements RawFrame {
  number = 0;
  linkType = 0;
  tsSec = 0;
  tsNsec = 0;
  bytes: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  origLen = 0;
  offset = 0;
  interfaceId = 0;

  get data(): Uint8Array {
    return this.bytes.subarray(this.start, this.end);
  }
}

export type ContainerFormat = 'pcap' | 'pcapng' | 'unknown';

interface Iface {
  linkType: number;
  /** Timestamp units per second as a power: 10^-exp or 2^-exp. */
  tsDiv: bigint;
  tsDivNum: number;
  snapLen: number;
}

const MAX_BLOCK = 256 * 1024 * 1024;

export class ContainerReader {
  format: ContainerFormat = 'unknown';
  frames = 0;
  bytes = 0;
  readonly warnings: string[] = [];
  /** Stops reading after a structural error (corrupt length): the rest cannot be framed. */
  stopped = false;

  private partial: Uint8Array | undefined;
  private partialLen = 0;
  private partialOffset = 0;
  private little = false;
  private nanoRes = false; // pcap
  private pcapLinkType = 1;
  private ifaces: Iface[] = [];
  private headerDone = false;
  private readonly frame = new FrameSlot();

  constructor(private readonly onFrame: (f: RawFrame) => void) {}

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.stopped || chunk.length === 0) return;
    let pos = 0;
    // Finish the straddling block first, copying only the bytes it needs.
    while (this.partial !== undefined) {
      const have = this.partial.subarray(0, this.partialLen);
      const len = this.blockLength(have, 0, this.partialOffset);
      if (len === -1) {
        this.stop();
        return;
      }
      const target = len === 0 ? this.headerNeed(have) : len;
      const take = Math.min(target - this.partialLen, chunk.length - pos);
      if (take <= 0 && len === 0) return;
      this.grow(this.partialLen + take);
      this.partial.set(chunk.subarray(pos, pos + take), this.partialLen);
      this.partialLen += take;
      pos += take;
      if (len > 0 && this.partialLen === len) {
        const base = this.partialOffset;
        const block = this.partial.subarray(0, len);
        this.partial = undefined;
        if (this.consume(block, 0, base) === 0) {
          this.stop();
          return;
        }
        break;
      }
      if (pos >= chunk.length) return; // chunk exhausted, block still incomplete
    }
    if (this.stopped) return;
    const start = this.bytes - chunk.length; // file offset of chunk[0]
    const used = this.consumeAll(chunk, pos, start);
    const rest = chunk.length - used;
    if (rest > 0 && !this.stopped) {
      this.partial = new Uint8Array(Math.max(rest * 2, 4096));
      this.partial.set(chunk.subarray(used));
      this.partialLen = rest;
      this.partialOffset = start + used;
    }
  }

  /** Bytes needed before the length of the block at buf[0] can be read. */
  private headerNeed(buf: Uint8Array): number {
    if (!this.headerDone) {
      if (buf.length < 4) return 4;
      return buf[0] === 0x0a && buf[1] === 0x0d ? 12 : 24;
    }
    return this.format === 'pcap' ? 16 : 12;
  }

  /** Call at end of input: reports a truncated last block. */
  end(): void {
    if (this.partial !== undefined && this.partialLen > 0 && !this.stopped) {
      this.warnings.push(
        `capture file is truncated: the last ${this.partialLen} bytes (at offset ${this.partialOffset}) are an incomplete ${this.format === 'pcapng' ? 'block' : 'record'}; the result is partial`,
      );
    }
    if (this.format === 'unknown' && !this.stopped) this.warnings.push('not a pcap or pcapng capture (unknown magic number)');
    this.partial = undefined;
  }

  private stop(): void {
    if (!this.stopped) this.stopped = true;
  }

  private grow(n: number): void {
    if (this.partial === undefined) {
      this.partial = new Uint8Array(Math.max(n, 4096));
      return;
    }
    if (n <= this.partial.length) return;
    const next = new Uint8Array(Math.max(n, this.partial.length * 2));
    next.set(this.partial.subarray(0, this.partialLen));
    this.partial = next;
  }

  /** Consume whole blocks from buf[pos..]; returns the index after the last consumed byte. */
  private consumeAll(buf: Uint8Array, pos: number, baseOffset: number): number {
    // baseOffset = file offset of buf[0]
    while (pos < buf.length && !this.stopped) {
      const len = this.blockLength(buf, pos, baseOffset + pos);
      if (len === -1) {
        this.stop();
        return buf.length;
      }
      if (len === 0 || pos + len > buf.length) return pos;
      const used = this.consume(buf, pos, baseOffset + pos);
      if (used === 0) {
        this.stop();
        return buf.length;
      }
      pos += used;
    }
    return pos;
  }

  /** Length of the block at buf[pos] (file offset `at`, for warnings): >0 known, 0 need more bytes, -1 corrupt. */
  private blockLength(buf: Uint8Array, pos: number, at: number): number {
    const avail = buf.length - pos;
    if (!this.headerDone) {
      if (avail < 4) return 0;
      const dv = new DataView(buf.buffer, buf.byteOffset + pos, avail);
      const m = dv.getUint32(0, false);
      if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return avail >= 24 ? 24 : 0;
      if (m === 0x0a0d0d0a) return this.pcapngLen(buf, pos, true, at);
      this.warnings.push(
        buf[pos] === 0x1f && buf[pos + 1] === 0x8b
          ? 'gzip-compressed capture: decompress it before decoding (the Node reader does this)'
          : `not a pcap or pcapng capture (magic ${m.toString(16).padStart(8, '0')})`,
      );
      return -1;
    }
    if (this.format === 'pcap') {
      if (avail < 16) return 0;
      const incl = this.u32(buf, pos + 8);
      if (incl > MAX_BLOCK) {
        this.warnings.push(`corrupt pcap record at offset ${at}: captured length ${incl}; the rest of the file is not read`);
        return -1;
      }
      return 16 + incl;
    }
    return this.pcapngLen(buf, pos, false, at);
  }

  private pcapngLen(buf: Uint8Array, pos: number, first: boolean, at: number): number {
    const avail = buf.length - pos;
    if (avail < 12) return 0;
    const dv = new DataView(buf.buffer, buf.byteOffset + pos, 12);
    let little = this.little;
    if (dv.getUint32(0, false) === 0x0a0d0d0a) {
      const bom = dv.getUint32(8, false);
      if (bom === 0x1a2b3c4d) little = false;
      else if (bom === 0x4d3c2b1a) little = true;
      else {
        this.warnings.push('pcapng section header with an unknown byte-order magic; the rest of the file is not read');
        return -1;
      }
    } else if (first) return -1;
    const len = dv.getUint32(4, little);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
      this.warnings.push(`corrupt pcapng block at offset ${at}: length ${len}; the rest of the file is not read`);
      return -1;
    }
    return len;
  }

  /** Handle one complete block (buf = exactly the block). Returns bytes used (0 = corrupt). */
  /** u32 in the capture's byte order, without a DataView (one per frame would dominate small frames). */
  private u32(b: Uint8Array, p: number): number {
    return this.little
      ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
      : ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  private emitFrame(linkType: number, tsSec: number, tsNsec: number, bytes: Uint8Array, start: number, end: number, origLen: number, offset: number, interfaceId: number): void {
    const f = this.frame;
    f.number = this.frames;
    f.linkType = linkType;
    f.tsSec = tsSec;
    f.tsNsec = tsNsec;
    f.bytes = bytes;
    f.start = start;
    // Never past the block nor before its start (an SPB shorter than its header gives no bytes).
    f.end = Math.max(start, Math.min(end, bytes.length));
    f.origLen = origLen;
    f.offset = offset;
    f.interfaceId = interfaceId;
    this.onFrame(f);
  }

  private consume(buf: Uint8Array, pos: number, fileOffset: number): number {
    if (this.headerDone && this.format === 'pcap') {
      const incl = this.u32(buf, pos + 8);
      const frac = this.u32(buf, pos + 4);
      this.frames++;
      this.emitFrame(this.pcapLinkType, this.u32(buf, pos), this.nanoRes ? frac : frac * 1000, buf, pos + 16, pos + 16 + incl, this.u32(buf, pos + 12), fileOffset, 0);
      return 16 + incl;
    }
    const dv = new DataView(buf.buffer, buf.byteOffset + pos, buf.length - pos);
    if (!this.headerDone) {
      const m = dv.getUint32(0, false);
      if (m !== 0x0a0d0d0a) {
        this.format = 'pcap';
        this.little = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
        this.nanoRes = m === 0xa1b23c4d || m === 0x4d3cb2a1;
        this.pcapLinkType = dv.getUint32(20, this.little) & 0xffff; // upper bits: FCS info
        this.headerDone = true;
        return 24;
      }
      this.format = 'pcapng';
      this.headerDone = true;
    }
    if (this.format === 'pcap') {
      const sec = dv.getUint32(0, this.little);
      const frac = dv.getUint32(4, this.little);
      const incl = dv.getUint32(8, this.little);
      const orig = dv.getUint32(12, this.little);
      this.frames++;
      this.emitFrame(this.pcapLinkType, sec, this.nanoRes ? frac : frac * 1000, buf, pos + 16, pos + 16 + incl, orig, fileOffset, 0);
      return 16 + incl;
    }
    return this.consumePcapng(buf, pos, dv, fileOffset);
  }

  private consumePcapng(buf: Uint8Array, pos: number, dv: DataView, fileOffset: number): number {
    const typeBE = dv.getUint32(0, false);
    if (typeBE === 0x0a0d0d0a) {
      this.little = dv.getUint32(8, false) === 0x4d3c2b1a;
      this.ifaces = []; // interface ids are per section
      return dv.getUint32(4, this.little);
    }
    const type = dv.getUint32(0, this.little);
    const len = dv.getUint32(4, this.little);
    switch (type) {
      case 1: { // Interface Description Block
        const linkType = dv.getUint16(8, this.little);
        const snapLen = dv.getUint32(12, this.little);
        const iface: Iface = { linkType, tsDiv: 1_000_000n, tsDivNum: 1e6, snapLen };
        // options: code u16, length u16, value padded to 4
        let o = 16;
        while (o + 4 <= len - 4) {
          const code = dv.getUint16(o, this.little);
          const olen = dv.getUint16(o + 2, this.little);
          if (code === 0) break;
          if (code === 9 && olen >= 1) {
            const v = buf[pos + o + 4];
            const exp = v & 0x7f;
            const div = v & 0x80 ? 2n ** BigInt(exp) : 10n ** BigInt(exp);
            iface.tsDiv = div;
            iface.tsDivNum = Number(div);
          }
          o += 4 + ((olen + 3) & ~3);
        }
        this.ifaces.push(iface);
        return len;
      }
      case 6: // Enhanced Packet Block
      case 2: { // Packet Block (obsolete): interface u16, drops u16
        if (len < 32) return len;
        const ifId = type === 6 ? dv.getUint32(8, this.little) : dv.getUint16(8, this.little);
        const iface = this.ifaces[ifId];
        const hi = dv.getUint32(12, this.little);
        const lo = dv.getUint32(16, this.little);
        const cap = dv.getUint32(20, this.little);
        const orig = dv.getUint32(24, this.little);
        const capLen = Math.min(cap, len - 32);
        this.frames++;
        if (iface === undefined) {
          this.warnings.push(`pcapng packet block for unknown interface ${ifId} (frame ${this.frames}) skipped`);
          return len;
        }
        let sec: number;
        let nsec: number;
        const units = hi * 4294967296 + lo;
        if (iface.tsDivNum === 1e6 && units < 9e15) {
          sec = Math.floor(units / 1e6);
          nsec = (units - sec * 1e6) * 1000;
        } else {
          const t = (BigInt(hi) << 32n) | BigInt(lo);
          const s = t / iface.tsDiv;
          sec = Number(s);
          nsec = Number(((t - s * iface.tsDiv) * 1_000_000_000n) / iface.tsDiv);
        }
        this.emitFrame(iface.linkType, sec, nsec, buf, pos + 28, pos + 28 + capLen, orig, fileOffset, ifId);
        return len;
      }
      case 3: { // Simple Packet Block: no timestamp, interface 0
        const iface = this.ifaces[0];
        const orig = dv.getUint32(8, this.little);
        this.frames++;
        if (iface === undefined) return len;
        const capLen = Math.min(orig, iface.snapLen || orig, len - 16);
        this.emitFrame(iface.linkType, 0, 0, buf, pos + 12, pos + 12 + capLen, orig, fileOffset, 0);
        return len;
      }
      default:
        return len; // NRB, ISB, DSB, custom blocks...
    }
  }
}
