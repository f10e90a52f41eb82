/**
 * Streaming capture decoder: pcap/pcapng bytes in (any chunking), ParsedEvents out.
 *   container (pcap/pcapng) -> link layer -> IPv4/IPv6 (+fragments) -> TCP (reassembly, record marking) / UDP
 *   -> ONC RPC (recognised by content) -> call/reply matching -> one 'rpc' event per call.
 * Transport problems (TCP gaps, malformed records, truncated file) become 'packet' events with level 'warn'.
 * Memory is bounded by the open conversations: finished TCP connections and idle conversations are dropped,
 * and their unanswered calls are emitted as such.
 */
import type { ParsedEvent } from '../model/event';
import { RpcTracker, type AnsweredSink, type Pending, type RpcConversation } from '../rpc/tracker';
import type { CaptureSummary } from '../rpc/types';
import { PendingCalls } from '../rpc/pending';
import { AnsweredXids } from '../rpc/xids';
import { ContainerReader, type RawFrame } from './container/reader';
import { IpLayer, ipv4ToString, type IpPacket } from './net/ip';
import { networkOffset } from './net/link';
import { TcpStream, type RecordSink, type SegMeta } from './net/tcp';

export interface CaptureDecoderOptions {
  /** Bound of unanswered calls kept per conversation and direction (oldest emitted as unanswered). */
  readonly maxPendingPerConversation?: number;
  /** A conversation silent this long (capture time) is closed: its unanswered calls are emitted. */
  readonly idleSeconds?: number;
  /** false: no 'rpc' event per call (transport notes are still emitted); for `answered`-only consumers. */
  readonly rpcEvents?: boolean;
  /** Told once per matched reply (see AnsweredSink): service-time tables without an event per call. */
  readonly answered?: AnsweredSink;
}

export interface CaptureDecoder {
  push(chunk: Uint8Array): void;
  end(): CaptureSummary;
  /** What the decoder holds right now (for memory checks): conversations and unanswered calls. */
  held(): { readonly conversations: number; readonly pendingCalls: number };
}

class Conv implements RpcConversation {
  readonly pendingA = new PendingCalls<Pending>();
  readonly pendingB = new PendingCalls<Pending>();
  readonly answeredA = new AnsweredXids(1024);
  readonly answeredB = new AnsweredXids(1024);
  sawCall = false;
  streamA: TcpStream | undefined;
  streamB: TcpStream | undefined;
  finA = false;
  finB = false;
  closed = false;
  lastSec = 0;
  /** IPv4 fast path: transport index (-1: not IPv4), ipA, ipB, portA * 65536 + portB, their hash, and the
   * next conversation with the same hash. */
  v4t = -1;
  v4a = 0;
  v4b = 0;
  v4ports = 0;
  v4hash = 0;
  v4next: Conv | undefined = undefined;
  constructor(
    readonly key: string,
    readonly transport: 'tcp' | 'udp',
    readonly addrA: string,
    readonly addrB: string,
  ) {}
}

const MAX_NOTES = 10_000;

export function createCaptureDecoder(opts: CaptureDecoderOptions, emit: (e: ParsedEvent) => void): CaptureDecoder {
  const idleSeconds = opts.idleSeconds ?? 600;
  const tracker = new RpcTracker(emit, { maxPending: opts.maxPendingPerConversation ?? 65536, events: opts.rpcEvents ?? true, answered: opts.answered });
  const ip = new IpLayer();
  const convs = new Map<string, Conv>();
  // IPv4 fast path: one Map look-up per packet, by a small-integer hash of (transport, ipA, ipB, ports), the
  // conversations sharing a hash chained through v4next (no string per packet, no map per address).
  const v4 = new Map<number, Conv>();
  /** Direction of the packet convFor last looked up: true when its source is the conversation's end A. */
  let dirA = false;
  const warnings: string[] = [];
  let notes = 0;
  let tcpGaps = 0;
  let tcpRetrans = 0;
  let malformedRecords = 0;
  let firstSec = -1;
  let firstNsec = 0;
  let lastSec = 0;
  let lastNsec = 0;
  /** The current (then last) TCP/UDP frame. */
  const frameMeta: { frame: number; tsSec: number; tsNsec: number; offset: number } = { frame: 0, tsSec: 0, tsNsec: 0, offset: 0 };
  const lastMeta: SegMeta = frameMeta;
  let nextSweep = 0;
  let nextSweepSec = 0;

  const note = (reason: string, text: string, meta: SegMeta, conv: Conv | undefined): void => {
    if (reason === 'tcp-gap') tcpGaps++;
    else malformedRecords++;
    if (notes >= MAX_NOTES) return;
    notes++;
    if (notes === MAX_NOTES) warnings.push(`more than ${MAX_NOTES} transport notes; further ones are counted only`);
    emit({
      kind: 'packet',
      ts: BigInt(meta.tsSec) * 1_000_000_000n + BigInt(meta.tsNsec),
      clock: 'capture',
      line: meta.frame,
      level: 'warn',
      text: conv ? `${text} (${conv.addrA} <-> ${conv.addrB})` : text,
      data: { reason, frame: meta.frame, frameOffset: meta.offset, ...(conv ? { conversation: `${conv.addrA} <-> ${conv.addrB}`, transport: conv.transport } : {}) },
    });
  };

  const sinkFor = (conv: Conv, fromA: boolean): RecordSink => ({
    record(bytes, start, end, meta, truncated) {
      if (!tracker.message(bytes, start, end, conv, fromA, meta, truncated)) {
        note('malformed-record', 'TCP record is not a valid ONC RPC message', meta, conv);
        const s = fromA ? conv.streamA : conv.streamB;
        if (s) s.asm.synced = false;
      }
    },
    note(reason, text, meta) {
      note(reason, text, meta, conv);
    },
  });

  const closeTcp = (conv: Conv, meta: SegMeta): void => {
    if (conv.closed) return;
    conv.closed = true;
    for (const s of [conv.streamA, conv.streamB]) {
      if (s) {
        s.flush(meta);
        tcpRetrans += s.retransmissions;
        s.retransmissions = 0;
      }
    }
    conv.streamA = conv.streamB = undefined; // free reassembly buffers now
    tracker.flushConversation(conv); // no reply can come on a closed connection
  };

  const dropConv = (conv: Conv): void => {
    if (conv.transport === 'tcp') closeTcp(conv, lastMeta);
    tracker.flushConversation(conv);
    convs.delete(conv.key);
    if (conv.v4t >= 0) {
      const head = v4.get(conv.v4hash);
      if (head === conv) {
        if (conv.v4next === undefined) v4.delete(conv.v4hash);
        else v4.set(conv.v4hash, conv.v4next);
      } else {
        let c = head;
        while (c !== undefined && c.v4next !== conv) c = c.v4next;
        if (c !== undefined) c.v4next = conv.v4next;
      }
      conv.v4next = undefined;
    }
  };

  // Closed TCP connections are kept briefly (late retransmissions must not start a new stream), idle ones longer.
  const CLOSED_LINGER_S = Math.min(30, idleSeconds);
  const sweep = (): void => {
    for (const c of convs.values()) if (c.lastSec < lastSec - (c.closed ? CLOSED_LINGER_S : idleSeconds)) dropConv(c);
  };

  const onFrame = (f: RawFrame): void => {
    if (firstSec < 0) {
      firstSec = f.tsSec;
      firstNsec = f.tsNsec;
    }
    lastSec = f.tsSec;
    lastNsec = f.tsNsec;
    const off = networkOffset(f.linkType, f.bytes, f.start, f.end);
    if (off < 0) return;
    const p = ip.parse(f.bytes, off, f.origLen, f.end, f.start);
    if (p === undefined) return;
    if (p.proto !== 6 && p.proto !== 17) return;
    // One meta object refilled per frame: whatever outlives the frame copies it (pending calls, held segments).
    const meta = frameMeta;
    meta.frame = f.number;
    meta.tsSec = f.tsSec;
    meta.tsNsec = f.tsNsec;
    meta.offset = f.offset;
    // Sweep every 20k frames or when capture time has moved on enough to expire something.
    if (f.number >= nextSweep || f.tsSec >= nextSweepSec) {
      nextSweep = f.number + 20_000;
      nextSweepSec = f.tsSec + Math.max(1, Math.min(CLOSED_LINGER_S, idleSeconds));
      sweep();
    }
    if (p.proto === 17) udp(p, meta);
    else tcp(p, meta);
  };

  /** The conversation of a packet; its direction is left in `dirA` (no result object per packet). */
  const convFor = (p: IpPacket, transport: 'tcp' | 'udp', sport: number, dport: number): Conv => {
    if (p.version === 4) {
      const srcFirst = p.src4 < p.dst4 || (p.src4 === p.dst4 && sport <= dport);
      const a = srcFirst ? p.src4 : p.dst4;
      const b = srcFirst ? p.dst4 : p.src4;
      const ports = srcFirst ? sport * 65536 + dport : dport * 65536 + sport;
      const t = transport === 'tcp' ? 1 : 0;
      let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(ports, 0x85ebca6b), 0xc2b2ae35) ^ t;
      h = (h ^ (h >>> 15)) & 0x3fffffff;
      const head = v4.get(h);
      let conv = head;
      while (conv !== undefined && (conv.v4a !== a || conv.v4b !== b || conv.v4ports !== ports || conv.v4t !== t)) conv = conv.v4next;
      if (conv === undefined) {
        const sa = `${ipv4ToString(p.src4)}:${sport}`;
        const da = `${ipv4ToString(p.dst4)}:${dport}`;
        const key = `${transport}${srcFirst ? sa : da}-${srcFirst ? da : sa}`;
        conv = srcFirst ? new Conv(key, transport, sa, da) : new Conv(key, transport, da, sa);
        conv.v4t = t;
        conv.v4a = a;
        conv.v4b = b;
        conv.v4ports = ports;
        conv.v4hash = h;
        conv.v4next = head;
        v4.set(h, conv);
        convs.set(key, conv);
      }
      dirA = srcFirst;
      return conv;
    }
    const srcFirst = p.src6 < p.dst6 || (p.src6 === p.dst6 && sport <= dport);
    const key = srcFirst ? `${transport}[${p.src6}]:${sport}-[${p.dst6}]:${dport}` : `${transport}[${p.dst6}]:${dport}-[${p.src6}]:${sport}`;
    let conv = convs.get(key);
    if (conv === undefined) {
      const a = `[${p.src6}]:${sport}`;
      const b = `[${p.dst6}]:${dport}`;
      conv = srcFirst ? new Conv(key, transport, a, b) : new Conv(key, transport, b, a);
      convs.set(key, conv);
    }
    dirA = srcFirst;
    return conv;
  };

  const udp = (p: IpPacket, meta: SegMeta): void => {
    const d = p.data;
    const o = p.start;
    if (p.end - o < 8) return;
    const sport = (d[o] << 8) | d[o + 1];
    const dport = (d[o + 2] << 8) | d[o + 3];
    const ulen = (d[o + 4] << 8) | d[o + 5];
    const end = ulen >= 8 ? Math.min(o + ulen, p.end) : p.end;
    const start = o + 8;
    if (end - start < 12) return;
    // Cheap pre-check before a conversation is created: msg_type must be CALL or REPLY.
    const mt = ((d[start + 4] << 24) | (d[start + 5] << 16) | (d[start + 6] << 8) | d[start + 7]) >>> 0;
    if (mt > 1) return;
    const conv = convFor(p, 'udp', sport, dport);
    const fromA = dirA;
    conv.lastSec = meta.tsSec;
    const truncated = p.truncated || (ulen >= 8 && o + ulen > p.end);
    tracker.message(d, start, end, conv, fromA, meta, truncated);
  };

  const tcp = (p: IpPacket, meta: SegMeta): void => {
    const d = p.data;
    const o = p.start;
    if (p.end - o < 20) return;
    const sport = (d[o] << 8) | d[o + 1];
    const dport = (d[o + 2] << 8) | d[o + 3];
    const seq = ((d[o + 4] << 24) | (d[o + 5] << 16) | (d[o + 6] << 8) | d[o + 7]) >>> 0;
    const ack = ((d[o + 8] << 24) | (d[o + 9] << 16) | (d[o + 10] << 8) | d[o + 11]) >>> 0;
    const hlen = (d[o + 12] >> 4) * 4;
    const flags = d[o + 13];
    if (hlen < 20) return;
    const start = Math.min(o + hlen, p.end);
    const conv = convFor(p, 'tcp', sport, dport);
    const fromA = dirA;
    conv.lastSec = meta.tsSec;
    const SYN = 0x02;
    const FIN = 0x01;
    const RST = 0x04;
    const ACK = 0x10;
    if (flags & SYN && conv.closed) {
      // The address pair is reused by a new connection.
      tracker.flushConversation(conv);
      conv.closed = false;
      conv.finA = conv.finB = false;
      conv.streamA = conv.streamB = undefined;
    }
    if (conv.closed) return;
    let s = fromA ? conv.streamA : conv.streamB;
    if (s === undefined) {
      s = new TcpStream(sinkFor(conv, fromA));
      if (fromA) conv.streamA = s;
      else conv.streamB = s;
    }
    if (flags & SYN) s.syn(seq);
    if (flags & ACK) {
      const peer = fromA ? conv.streamB : conv.streamA;
      if (peer) peer.ack(ack);
    }
    if (start < p.end) s.segment(seq, d, start, p.end, meta);
    if (flags & RST) closeTcp(conv, meta);
    else if (flags & FIN) {
      if (fromA) conv.finA = true;
      else conv.finB = true;
      if (conv.finA && conv.finB) closeTcp(conv, meta);
    }
  };

  const reader = new ContainerReader(onFrame);

  return {
    push(chunk: Uint8Array): void {
      try {
        reader.push(chunk);
      } catch (e) {
        // Defensive: a decoder bug must not lose the whole capture.
        reader.stopped = true;
        warnings.push(`internal decoder error, input not read further: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    held() {
      let pendingCalls = 0;
      for (const c of convs.values()) pendingCalls += c.pendingA.size + c.pendingB.size;
      return { conversations: convs.size, pendingCalls };
    },
    end(): CaptureSummary {
      reader.end();
      for (const c of [...convs.values()]) dropConv(c);
      for (const w of reader.warnings) {
        warnings.push(w);
        note('truncated-file', w, lastMeta, undefined);
      }
      if (ip.pendingDatagrams() > 0) warnings.push(`${ip.pendingDatagrams()} IP datagrams had missing fragments`);
      if (tcpGaps > 0) warnings.push(`${tcpGaps} TCP gaps (bytes not captured): RPCs in them are missing`);
      const c = tracker.counters;
      const ts = (s: number, n: number): string => (BigInt(s) * 1_000_000_000n + BigInt(n)).toString();
      return {
        format: reader.format,
        gzip: false,
        frames: reader.frames,
        bytes: reader.bytes,
        rpcCalls: c.calls,
        rpcReplies: c.replies,
        matched: c.matched,
        noReply: c.noReply,
        orphanReplies: c.orphanReplies,
        tcpGaps,
        tcpRetransmissions: tcpRetrans,
        malformed: malformedRecords,
        ipFragmentsReassembled: ip.reassembledCount,
        ...(firstSec >= 0 ? { firstTs: ts(firstSec, firstNsec), lastTs: ts(lastSec, lastNsec) } : {}),
        warnings,
        partial: warnings.length > 0,
      };
    },
  };
}

/** Decode a whole capture held in memory (tests, small files). */
export function decodeCaptureBytes(bytes: Uint8Array, opts: CaptureDecoderOptions = {}): { events: ParsedEvent[]; summary: CaptureSummary } {
  const events: ParsedEvent[] = [];
  const dec = createCaptureDecoder(opts, (e) => events.push(e));
  dec.push(bytes);
  const summary = dec.end();
  return { events, summary };
}
