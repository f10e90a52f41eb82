/**
 * One direction of a TCP connection: in-order delivery (RFC 9293 sequence space, modulo 2^32) and ONC RPC
 * record marking (RFC 5531 §11: 4-byte mark, top bit = last fragment, 31-bit fragment length).
 * - Out-of-order segments are held (bounded) until the hole is filled.
 * - Bytes already delivered (retransmissions, overlaps) are dropped.
 * - A hole the peer has acknowledged was sent but not captured: it is declared a gap at once; otherwise when
 *   the held data exceeds its bounds or the stream ends. After a gap the record framing is lost, so the
 *   assembler waits for a segment that starts with a plausible record mark + RPC header (as Wireshark's
 *   heuristic dissector does, segment by segment).
 */

export interface SegMeta {
  readonly frame: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly offset: number;
}

export interface RecordSink {
  /** A complete RPC record body (mark removed, fragments joined). bytes[start, end) valid only during the call. */
  record(bytes: Uint8Array, start: number, end: number, meta: SegMeta, truncated: boolean): void;
  note(reason: 'tcp-gap' | 'malformed-record' | 'incomplete-record', text: string, meta: SegMeta): void;
}

const MAX_FRAGMENT = 64 * 1024 * 1024; // larger marks are framing garbage
const MAX_KEEP = 16 * 1024 * 1024; // bytes of one record kept for decoding (rest counted, not stored)
const MAX_OOO_BYTES = 8 * 1024 * 1024;
const MAX_OOO_SEGS = 2048;

/** Does data[p..] start with a record mark followed by an RPC call or reply header? */
export function plausibleRecordStart(d: Uint8Array, p: number, end: number): boolean {
  if (end - p < 16) return false;
  const mark = ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
  const len = mark & 0x7fffffff;
  if (len < 12 || len > MAX_FRAGMENT) return false;
  const mt = ((d[p + 8] << 24) | (d[p + 9] << 16) | (d[p + 10] << 8) | d[p + 11]) >>> 0;
  const w3 = ((d[p + 12] << 24) | (d[p + 13] << 16) | (d[p + 14] << 8) | d[p + 15]) >>> 0;
  if (mt === 0) return w3 === 2;
  if (mt === 1) return w3 === 0 || w3 === 1;
  return false;
}

export class RecordAssembler {
  synced = false;
  everSynced = false;
  private hdr = new Uint8Array(4);
  private hdrLen = 0;
  private fragRemaining = 0;
  private lastFrag = false;
  private inRecord = false;
  private rec = new Uint8Array(0);
  private recLen = 0;
  private recDropped = 0;
  /** Bytes from a segment start, gathered until there are enough (16) to judge a record start. */
  private probe = new Uint8Array(16);
  private probeLen = 0;

  constructor(private readonly sink: RecordSink) {}

  feed(d: Uint8Array, start: number, end: number, meta: SegMeta, segmentStart: boolean): void {
    let p = start;
    if (!this.synced) {
      // Look for framing only where a segment starts (as Wireshark's heuristic does); the 16 bytes needed to
      // judge may span several small segments.
      if (this.probeLen === 0) {
        if (!segmentStart) return;
        if (end - p >= 16) {
          if (!plausibleRecordStart(d, p, end)) return;
          this.synced = true;
          this.everSynced = true;
        }
      }
      if (!this.synced) {
        const take = Math.min(16 - this.probeLen, end - p);
        this.probe.set(d.subarray(p, p + take), this.probeLen);
        this.probeLen += take;
        p += take;
        if (this.probeLen < 16) return;
        this.probeLen = 0;
        if (!plausibleRecordStart(this.probe, 0, 16)) return;
        this.synced = true;
        this.everSynced = true;
        const head = this.probe.slice();
        this.feed(head, 0, 16, meta, false);
        if (p >= end) return;
      }
    }
    while (p < end) {
      if (this.fragRemaining === 0) {
        let mark: number;
        if (this.hdrLen === 0 && end - p >= 4) {
          mark = ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
          p += 4;
        } else {
          while (this.hdrLen < 4 && p < end) this.hdr[this.hdrLen++] = d[p++];
          if (this.hdrLen < 4) return;
          const h = this.hdr;
          mark = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
          this.hdrLen = 0;
        }
        const len = mark & 0x7fffffff;
        this.lastFrag = mark >>> 31 === 1;
        if (len > MAX_FRAGMENT || (!this.inRecord && len < 12 && this.lastFrag)) {
          this.sink.note('malformed-record', `RPC record mark with impossible length ${len}: record framing lost until the next plausible record`, meta);
          this.resync();
          return;
        }
        this.fragRemaining = len;
        if (!this.inRecord) {
          this.inRecord = true;
          this.recLen = 0;
          this.recDropped = 0;
          // Fast path: a whole single-fragment record inside this segment is decoded in place.
          if (this.lastFrag && end - p >= len) {
            this.sink.record(d, p, p + len, meta, false);
            p += len;
            this.fragRemaining = 0;
            this.inRecord = false;
            continue;
          }
        }
        if (len === 0) {
          if (this.lastFrag) this.complete(meta);
          continue;
        }
      }
      const take = Math.min(this.fragRemaining, end - p);
      this.append(d, p, take);
      p += take;
      this.fragRemaining -= take;
      if (this.fragRemaining === 0 && this.lastFrag) this.complete(meta);
    }
  }

  private append(d: Uint8Array, p: number, n: number): void {
    const room = MAX_KEEP - this.recLen;
    const keep = Math.min(n, Math.max(0, room));
    if (keep > 0) {
      if (this.recLen + keep > this.rec.length) {
        const next = new Uint8Array(Math.min(MAX_KEEP, Math.max(this.recLen + keep, this.rec.length * 2, 4096)));
        next.set(this.rec.subarray(0, this.recLen));
        this.rec = next;
      }
      this.rec.set(d.subarray(p, p + keep), this.recLen);
      this.recLen += keep;
    }
    this.recDropped += n - keep;
  }

  private complete(meta: SegMeta): void {
    this.sink.record(this.rec, 0, this.recLen, meta, this.recDropped > 0);
    this.inRecord = false;
    this.recLen = 0;
    if (this.rec.length > 1024 * 1024) this.rec = new Uint8Array(0); // do not pin a big buffer per stream
  }

  private resync(): void {
    this.synced = false;
    this.probeLen = 0;
    this.inRecord = false;
    this.fragRemaining = 0;
    this.hdrLen = 0;
    this.recLen = 0;
  }

  /** Bytes were lost: any record in progress is gone and framing must be found again. */
  gap(missing: number, meta: SegMeta): void {
    if (this.everSynced) {
      const lost = this.inRecord || this.hdrLen > 0 ? ' (an RPC record in progress was lost)' : '';
      this.sink.note('tcp-gap', `TCP gap: ${missing} bytes not captured${lost}; the result for this connection is partial`, meta);
    }
    this.resync();
  }

  /** End of stream: a record still in progress is reported. */
  finish(meta: SegMeta): void {
    if (this.synced && (this.inRecord || this.hdrLen > 0)) {
      this.sink.note('incomplete-record', 'RPC record incomplete at the end of the TCP stream (capture ended or connection cut)', meta);
    }
    this.resync();
  }
}

interface Held {
  seq: number;
  data: Uint8Array;
  meta: SegMeta;
}

export class TcpStream {
  private nextSeq = -1;
  private held: Held[] = [];
  private heldBytes = 0;
  /** Highest sequence number the peer acknowledged (-1 = none). */
  private peerAck = -1;
  retransmissions = 0;
  gaps = 0;
  readonly asm: RecordAssembler;

  constructor(sink: RecordSink) {
    this.asm = new RecordAssembler(sink);
  }

  syn(seq: number): void {
    if (this.nextSeq === -1) this.nextSeq = (seq + 1) >>> 0;
  }

  ack(ackNo: number): void {
    if (this.peerAck === -1 || ((ackNo - this.peerAck) | 0) > 0) this.peerAck = ackNo;
  }

  segment(seq: number, d: Uint8Array, start: number, end: number, meta: SegMeta): void {
    const len = end - start;
    if (len <= 0) return;
    if (this.nextSeq === -1) this.nextSeq = seq;
    let rel = (seq - this.nextSeq) | 0;
    const trimmed = rel < 0;
    if (rel < 0) {
      if (rel + len <= 0) {
        this.retransmissions++;
        return;
      }
      start -= rel;
      seq = this.nextSeq;
      rel = 0;
    }
    if (rel === 0) {
      this.deliver(d, start, end, meta, !trimmed);
      this.drain();
      return;
    }
    if (rel > MAX_OOO_BYTES * 8) {
      // Far beyond anything held: a new incarnation of the connection or a capture restart.
      this.gapTo(seq, meta);
      this.deliver(d, start, end, meta, true);
      this.drain();
      return;
    }
    this.hold(seq, d.slice(start, end), meta);
    // The peer acknowledged bytes up to here, so the hole was delivered but not captured.
    if (this.peerAck !== -1 && ((this.peerAck - seq) | 0) >= 0) this.gapTo(this.held[0].seq, meta);
    else if (this.heldBytes > MAX_OOO_BYTES || this.held.length > MAX_OOO_SEGS) this.gapTo(this.held[0].seq, meta);
    this.drain();
  }

  /** Connection closed or capture ended: deliver what is held (declaring holes as gaps) and close framing. */
  flush(meta: SegMeta): void {
    while (this.held.length > 0) {
      this.gapTo(this.held[0].seq, meta);
      this.drain();
    }
    this.asm.finish(meta);
  }

  private hold(seq: number, data: Uint8Array, meta: SegMeta): void {
    const rel = (seq - this.nextSeq) | 0;
    let i = this.held.length;
    while (i > 0 && ((this.held[i - 1].seq - this.nextSeq) | 0) > rel) i--;
    this.held.splice(i, 0, { seq, data, meta: { frame: meta.frame, tsSec: meta.tsSec, tsNsec: meta.tsNsec, offset: meta.offset } });
    this.heldBytes += data.length;
  }

  private gapTo(seq: number, meta: SegMeta): void {
    const missing = (seq - this.nextSeq) | 0;
    if (missing <= 0) return;
    this.gaps++;
    this.asm.gap(missing, meta);
    this.nextSeq = seq;
  }

  private deliver(d: Uint8Array, start: number, end: number, meta: SegMeta, segmentStart: boolean): void {
    this.nextSeq = (this.nextSeq + (end - start)) >>> 0;
    this.asm.feed(d, start, end, meta, segmentStart);
  }

  private drain(): void {
    while (this.held.length > 0) {
      const h = this.held[0];
      const rel = (h.seq - this.nextSeq) | 0;
      if (rel > 0) return;
      this.held.shift();
      this.heldBytes -= h.data.length;
      if (rel + h.data.length <= 0) {
        this.retransmissions++;
        continue;
      }
      // A trimmed segment does not start a segment boundary for resync purposes.
      const start = -rel;
      this.nextSeq = (this.nextSeq + (h.data.length - start)) >>> 0;
      this.asm.feed(h.data, start, h.data.length, h.meta, start === 0);
    }
  }
}
