/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) down to the transport header, with fragment reassembly
 * (RFC 791 §3.2 / RFC 8200 §4.5). Pending fragments are bounded in count and bytes so a capture full of
 * lone fragments cannot grow memory.
 */

export interface IpPacket {
  version: 4 | 6;
  proto: number;
  /** IPv4 addresses as unsigned 32-bit numbers; IPv6 as text. */
  src4: number;
  dst4: number;
  src6: string;
  dst6: string;
  data: Uint8Array;
  start: number;
  end: number;
  /** The transport payload came from reassembled fragments. */
  reassembled: boolean;
  /** The datagram was cut by the snap length. */
  truncated: boolean;
}

interface FragSet {
  frags: { off: number; data: Uint8Array }[];
  total: number; // -1 until the last fragment is seen
  bytes: number;
}

const MAX_DATAGRAMS = 1024;
const MAX_FRAG_BYTES = 64 * 1024 * 1024;

export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function ipv6ToString(d: Uint8Array, o: number): string {
  const parts: number[] = [];
  for (let i = 0; i < 16; i += 2) parts.push((d[o + i] << 8) | d[o + i + 1]);
  // RFC 5952: compress the longest run of zero groups (length >= 2)
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = parts.map((p) => p.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export class IpLayer {
  readonly pkt: IpPacket = {
    version: 4, proto: 0, src4: 0, dst4: 0, src6: '', dst6: '', data: new Uint8Array(0), start: 0, end: 0,
    reassembled: false, truncated: false,
  };
  reassembledCount = 0;
  droppedFragments = 0;
  private readonly frags = new Map<string, FragSet>();
  private fragBytes = 0;

  /**
   * Parse the IP header at data[off] of the frame data[frameStart, end) (whole array by default; the decoder
   * passes the frame in place in its capture chunk). Returns the packet (reused object; data/start/end index
   * the same array) or undefined (not IP, fragment pending).
   */
  parse(data: Uint8Array, off: number, origLen: number, end = data.length, frameStart = 0): IpPacket | undefined {
    if (off >= end) return undefined;
    const v = data[off] >> 4;
    // The frame was cut by the snap length when its original length exceeds what was captured.
    const cut = origLen > end - frameStart;
    if (v === 4) return this.v4(data, off, end, cut);
    if (v === 6) return this.v6(data, off, end, cut);
    return undefined;
  }

  private v4(d: Uint8Array, o: number, dEnd: number, cut: boolean): IpPacket | undefined {
    if (dEnd - o < 20) return undefined;
    const ihl = (d[o] & 15) * 4;
    if (ihl < 20) return undefined;
    const total = (d[o + 2] << 8) | d[o + 3];
    const flagsFrag = (d[o + 6] << 8) | d[o + 7];
    const p = this.pkt;
    p.version = 4;
    p.proto = d[o + 9];
    p.src4 = ((d[o + 12] << 24) | (d[o + 13] << 16) | (d[o + 14] << 8) | d[o + 15]) >>> 0;
    p.dst4 = ((d[o + 16] << 24) | (d[o + 17] << 16) | (d[o + 18] << 8) | d[o + 19]) >>> 0;
    // total length 0 = TSO-offloaded packet captured before segmentation: trust the capture.
    const wantEnd = total === 0 ? dEnd : o + total;
    const end = Math.min(wantEnd, dEnd);
    p.truncated = wantEnd > dEnd || cut;
    p.reassembled = false;
    const mf = (flagsFrag & 0x2000) !== 0;
    const fragOff = (flagsFrag & 0x1fff) * 8;
    if (!mf && fragOff === 0) {
      p.data = d;
      p.start = o + ihl;
      p.end = end;
      return p;
    }
    const id = (d[o + 4] << 8) | d[o + 5];
    const key = `4|${p.src4}|${p.dst4}|${id}|${p.proto}`;
    return this.addFragment(key, fragOff, d.subarray(o + ihl, end), mf);
  }

  private v6(d: Uint8Array, o: number, dEnd: number, cut: boolean): IpPacket | undefined {
    if (dEnd - o < 40) return undefined;
    const p = this.pkt;
    p.version = 6;
    const plen = (d[o + 4] << 8) | d[o + 5];
    let next = d[o + 6];
    p.src6 = ipv6ToString(d, o + 8);
    p.dst6 = ipv6ToString(d, o + 24);
    const wantEnd = plen === 0 ? dEnd : o + 40 + plen; // 0: jumbogram or TSO
    const end = Math.min(wantEnd, dEnd);
    p.truncated = wantEnd > dEnd || cut;
    p.reassembled = false;
    let h = o + 40;
    let frag: { off: number; mf: boolean; id: number } | undefined;
    for (let guard = 0; guard < 16; guard++) {
      if (next === 0 || next === 43 || next === 60) {
        if (h + 2 > end) return undefined;
        const nh = d[h];
        h += (d[h + 1] + 1) * 8;
        next = nh;
      } else if (next === 44) {
        if (h + 8 > end) return undefined;
        const nh = d[h];
        const fo = (d[h + 2] << 8) | d[h + 3];
        frag = { off: fo & 0xfff8, mf: (fo & 1) !== 0, id: ((d[h + 4] << 24) | (d[h + 5] << 16) | (d[h + 6] << 8) | d[h + 7]) >>> 0 };
        h += 8;
        next = nh;
      } else break;
    }
    if (h > end) return undefined;
    p.proto = next;
    if (frag === undefined || (frag.off === 0 && !frag.mf)) {
      p.data = d;
      p.start = h;
      p.end = end;
      return p;
    }
    return this.addFragment(`6|${p.src6}|${p.dst6}|${frag.id}|${next}`, frag.off, d.subarray(h, end), frag.mf);
  }

  private addFragment(key: string, off: number, payload: Uint8Array, more: boolean): IpPacket | undefined {
    let set = this.frags.get(key);
    if (set === undefined) {
      if (this.frags.size >= MAX_DATAGRAMS) this.evictOldest();
      set = { frags: [], total: -1, bytes: 0 };
      this.frags.set(key, set);
    }
    set.frags.push({ off, data: payload.slice() });
    set.bytes += payload.length;
    this.fragBytes += payload.length;
    if (!more) set.total = off + payload.length;
    while (this.fragBytes > MAX_FRAG_BYTES && this.frags.size > 0) this.evictOldest();
    if (set.total < 0 || !this.frags.has(key)) return undefined;
    // Complete when the fragments cover [0, total) without holes.
    set.frags.sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const f of set.frags) {
      if (f.off > covered) return undefined;
      covered = Math.max(covered, f.off + f.data.length);
    }
    if (covered < set.total) return undefined;
    const out = new Uint8Array(set.total);
    for (const f of set.frags) {
      // A fragment past the end the last fragment gave (overlapping, or corrupt offsets) has nothing to place.
      if (f.off >= set.total) continue;
      out.set(f.data.subarray(0, Math.min(f.data.length, set.total - f.off)), f.off);
    }
    this.frags.delete(key);
    this.fragBytes -= set.bytes;
    this.reassembledCount++;
    const p = this.pkt;
    p.data = out;
    p.start = 0;
    p.end = out.length;
    p.reassembled = true;
    return p;
  }

  private evictOldest(): void {
    const first = this.frags.entries().next();
    if (first.done) return;
    this.frags.delete(first.value[0]);
    this.fragBytes -= first.value[1].bytes;
    this.droppedFragments += first.value[1].frags.length;
  }

  /** Datagrams still waiting for fragments (reported at end). */
  pendingDatagrams(): number {
    return this.frags.size;
  }
}
