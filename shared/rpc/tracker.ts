/**
 * Matches RPC calls to replies by XID per conversation and direction (RFC 5531 §9: the XID only has meaning
 * to the caller), decodes the program arguments/results and emits one 'rpc' ParsedEvent per call: when its
 * reply arrives, when it is evicted (pending table bound or idle conversation), or at end of input.
 * A call seen again with the same XID before the reply is a retransmission: it is kept with retransmitOf.
 */
import type { ParsedEvent, Level } from '../model/event';
import { readRpcHeader, rpcFailureStatus, authStatName, RpcHeaderSlot } from './message';
import { rpcEventData } from './eventdata';
import { PROGRAM_NUMBERS } from './names';
import { nfsaclDecoder, unknownProgram } from './programs/generic';
import { mountDecoder } from './programs/mount';
import { nfs3Decoder } from './programs/nfs3';
import { nfs4Decoder } from './programs/nfs4';
import { looksLikeCbCompound, nfs4CbDecoder } from './programs/nfs4cb';
import { nlmDecoder } from './programs/nlm';
import { nsmDecoder } from './programs/nsm';
import { portmapDecoder } from './programs/portmap';
import { FhNames, type CallOut, type DecodeContext, type ProgramDecoder, type ReplyOut } from './programs/types';
import type { RpcCred, RpcData, RpcProgramName } from './types';
import type { PendingCalls, Queued } from './pending';
import { XdrReader, XdrShort } from './xdr';
import type { AnsweredXids } from './xids';

export interface MsgMeta {
  readonly frame: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly offset: number;
}

/** What the tracker needs to know about a conversation (a TCP connection or a UDP address/port pair). */
export interface RpcConversation {
  readonly transport: 'tcp' | 'udp';
  /** "ip:port" of the two ends; A is the canonical first end. */
  readonly addrA: string;
  readonly addrB: string;
  /** Calls sent by A (answered by B) and by B, keyed by XID. */
  readonly pendingA: PendingCalls<Pending>;
  readonly pendingB: PendingCalls<Pending>;
  /** Answered XIDs of calls sent by A / by B (two generations). */
  readonly answeredA: AnsweredXids;
  readonly answeredB: AnsweredXids;
  sawCall: boolean;
}

export interface Pending extends CallOut, Queued<Pending> {
  readonly xid: number;
  readonly decoder: ProgramDecoder;
  readonly programNumber: number;
  readonly version: number;
  readonly proc: number;
  truncated: boolean;
  readonly cred: RpcCred | undefined;
  readonly gssService: number;
  readonly opaqueArgs: boolean;
  /** The call's frame (copied: the MsgMeta passed in is reused by the decoder for every frame). */
  readonly frame: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly offset: number;
  readonly client: string;
  readonly server: string;
  readonly transport: 'tcp' | 'udp';
  readonly conv: RpcConversation;
  readonly fromA: boolean;
  dups: Pending[] | undefined;
  retransmitOf?: number;
  /** Capture time of the first transmission of this XID on the conversation (this call's own, unless it
   * retransmits a call already answered): a reply's service time is measured from it, as tshark does. */
  firstSec: number;
  firstNsec: number;
}

/**
 * Told once per reply message matched to a call (not once per retransmission of that call), with the call's
 * procedure name, the RPC-level failure of the reply (PROC_UNAVAIL, AUTH_ERROR...; undefined when the call
 * was accepted and executed) and the service time in nanoseconds from the XID's first transmission.
 * This is all a service-response-time table needs, without building an event per call.
 */
export type AnsweredSink = (p: Pending, procedure: string, rpcFailure: string | undefined, serviceNs: number) => void;

export interface TrackerOptions {
  /** Bound of unanswered calls kept per conversation and direction (default 65536). */
  readonly maxPending?: number;
  /** false: emit no 'rpc' events (the counters and `answered` still see every call). */
  readonly events?: boolean;
  readonly answered?: AnsweredSink;
}

const ZEROS = '000000000';

const OK_STATUSES = new Set(['SUCCESS', 'NFS3_OK', 'NFS4_OK', 'NFS_OK', 'NLM4_GRANTED', 'LCK_GRANTED', 'MNT3_OK', 'MNT_OK', 'STAT_SUCC']);

export interface TrackerCounters {
  calls: number;
  replies: number;
  matched: number;
  noReply: number;
  orphanReplies: number;
  malformed: number;
}

export class RpcTracker {
  readonly counters: TrackerCounters = { calls: 0, replies: 0, matched: 0, noReply: 0, orphanReplies: 0, malformed: 0 };
  readonly ctx: DecodeContext = { fhNames: new FhNames(), cbPrograms: new Set<number>() };
  private readonly unknown = new Map<number, ProgramDecoder>();
  private readonly header = new RpcHeaderSlot();
  /** Reader of call arguments and reply results, re-pointed per message (decoders keep no reader). */
  private readonly body = new XdrReader(new Uint8Array(0));
  private readonly replyOut: ReplyOut = { status: undefined, statusCode: undefined, opStatuses: undefined };
  private cachedSec = -1;
  private cachedSecNs = 0n;
  private textSec = -1;
  private textSecStr = '';
  private readonly firstTime = new Float64Array(2);
  private readonly maxPending: number;
  private readonly events: boolean;
  private readonly answered: AnsweredSink | undefined;

  constructor(
    private readonly emit: (e: ParsedEvent) => void,
    opts: TrackerOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 65536;
    this.events = opts.events ?? true;
    this.answered = opts.answered;
    this.header.credentials = this.events;
  }

  /**
   * One RPC message (a UDP payload or a reassembled TCP record). Returns false when it is not ONC RPC.
   * Never throws.
   */
  message(bytes: Uint8Array, start: number, end: number, conv: RpcConversation, fromA: boolean, meta: MsgMeta, truncated: boolean): boolean {
    const h = this.header;
    if (!readRpcHeader(bytes, start, end, h)) return false;
    if (h.kind === 'call') {
      const dec = this.pickDecoder(h, bytes, end);
      if (dec === undefined) return false;
      this.call(h, dec, bytes, end, conv, fromA, meta, truncated);
      return true;
    }
    const map = fromA ? conv.pendingB : conv.pendingA;
    const p = map.get(h.xid);
    if (p === undefined) {
      // A reply without a call: only believed on TCP (record framing already checked) or on a conversation
      // that carried RPC calls; a lone UDP datagram that merely parses as a reply is not evidence of RPC.
      if (conv.transport === 'udp' && !conv.sawCall) return false;
      this.counters.replies++;
      this.orphan(h, conv, fromA, meta);
      return true;
    }
    this.counters.replies++;
    map.delete(p);
    this.reply(p, h, bytes, end, meta, truncated);
    return true;
  }

  /** Emit every pending call of a conversation as unanswered (idle eviction, end of input). */
  flushConversation(conv: RpcConversation): void {
    for (const m of [conv.pendingA, conv.pendingB]) {
      if (m.size === 0) continue;
      for (const p of m.values()) this.unanswered(p);
      m.clear();
    }
  }

  private pickDecoder(h: RpcHeaderSlot, bytes: Uint8Array, end: number): ProgramDecoder | undefined {
    const { program, version, procedure } = h;
    switch (program) {
      case PROGRAM_NUMBERS.portmap:
        return portmapDecoder;
      case PROGRAM_NUMBERS.nfs:
        return version === 4 ? nfs4Decoder : nfs3Decoder;
      case PROGRAM_NUMBERS.mount:
        return mountDecoder;
      case PROGRAM_NUMBERS.nlm:
        return nlmDecoder;
      case PROGRAM_NUMBERS.nsm:
        return nsmDecoder;
      case PROGRAM_NUMBERS.nfsacl:
        return nfsaclDecoder;
      default:
        break;
    }
    if (this.ctx.cbPrograms.has(program) || (program >= 0x40000000 && program <= 0x5fffffff && version === 1)) {
      if (procedure === 0) return nfs4CbDecoder;
      if (procedure === 1 && !h.gssControl && h.gssService !== 3 && looksLikeCbCompound(new XdrReader(bytes, this.argsStart(h, bytes, end), end))) return nfs4CbDecoder;
      if (this.ctx.cbPrograms.has(program)) return nfs4CbDecoder;
    }
    let d = this.unknown.get(program);
    if (d === undefined) {
      if (this.unknown.size > 4096) this.unknown.clear();
      d = unknownProgram(program);
      this.unknown.set(program, d);
    }
    return d;
  }

  /** RPCSEC_GSS integrity wraps the args as opaque { seq_num, args } (RFC 2203 §5.3.2.2). */
  private argsStart(h: RpcHeaderSlot, bytes: Uint8Array, end: number): number {
    if (h.credFlavor === 6 && h.gssService === 2 && !h.gssControl && end - h.bodyStart >= 8) return h.bodyStart + 8;
    void bytes;
    return h.bodyStart;
  }

  private call(h: RpcHeaderSlot, dec: ProgramDecoder, bytes: Uint8Array, end: number, conv: RpcConversation, fromA: boolean, meta: MsgMeta, truncated: boolean): void {
    this.counters.calls++;
    conv.sawCall = true;
    const opaqueArgs = h.gssControl || (h.credFlavor === 6 && h.gssService === 3);
    // The pending call is itself the CallOut the program decoder fills (no separate object per call).
    const p: Pending = {
      xid: h.xid, decoder: dec, programNumber: h.program, version: h.version, proc: h.procedure, detail: {}, ops: undefined, truncated,
      cred: h.cred, gssService: h.credFlavor === 6 ? h.gssService : 0, opaqueArgs,
      frame: meta.frame, tsSec: meta.tsSec, tsNsec: meta.tsNsec, offset: meta.offset,
      client: fromA ? conv.addrA : conv.addrB, server: fromA ? conv.addrB : conv.addrA,
      transport: conv.transport, conv, fromA, dups: undefined, retransmitOf: undefined, older: undefined, newer: undefined,
      firstSec: meta.tsSec, firstNsec: meta.tsNsec,
    };
    if (h.gssControl) p.detail.gss = h.cred.gssProc;
    else if (opaqueArgs) p.detail.encrypted = true;
    else if (dec.knowsVersion(h.version) && (this.events || dec.listsOps === true)) {
      // Without events only a COMPOUND's operation list is wanted from the arguments (NFSv4 calls still
      // teach ctx the callback program numbers, which decide how later CB traffic is recognised).
      const r = this.body.reset(bytes, this.argsStart(h, bytes, end), end);
      try {
        dec.decodeCall(r, h.version, h.procedure, p, this.ctx);
      } catch (e) {
        p.truncated = true;
        if (!(e instanceof XdrShort)) p.detail.decodeError = e instanceof Error ? e.message : String(e);
      }
    }
    const map = fromA ? conv.pendingA : conv.pendingB;
    const first = map.get(h.xid);
    if (first === undefined) {
      const ans = fromA ? conv.answeredA : conv.answeredB;
      const earlier = ans.get(h.xid);
      if (earlier !== undefined) {
        p.retransmitOf = earlier;
        if (ans.time(h.xid, this.firstTime)) {
          p.firstSec = this.firstTime[0];
          p.firstNsec = this.firstTime[1];
        }
      }
    }
    if (first !== undefined) {
      p.retransmitOf = first.frame;
      if (first.dups === undefined) first.dups = [];
      if (first.dups.length < 64) first.dups.push(p);
      else this.unanswered(p);
      return;
    }
    if (map.size >= this.maxPending) {
      const oldest = map.oldest();
      if (oldest !== undefined) {
        map.delete(oldest);
        this.unanswered(oldest);
      }
    }
    map.add(p);
  }

  private reply(p: Pending, h: RpcHeaderSlot, bytes: Uint8Array, end: number, meta: MsgMeta, truncated: boolean): void {
    // One ReplyOut for every reply: the event copies its fields (opStatuses is a new array per reply).
    const ro = this.replyOut;
    ro.status = undefined;
    ro.statusCode = undefined;
    ro.opStatuses = undefined;
    let short = truncated;
    const failure = rpcFailureStatus(h);
    if (failure !== undefined) {
      ro.status = failure;
      if (h.replyStat === 1 && h.rejectStat === 1) p.detail.authStat = authStatName(h.authStat);
      if (h.mismatchLow !== undefined) p.detail.mismatch = `${h.mismatchLow}-${h.mismatchHigh}`;
    } else if (!this.events) {
      // Service times need no program results; RPC-level failures were settled above.
      ro.status = 'SUCCESS';
    } else if (!p.opaqueArgs && p.decoder.knowsVersion(p.version)) {
      let start = h.bodyStart;
      if (p.gssService === 2) start += 8; // integrity: opaque length + seq_num before the results
      if (p.gssService === 3) start = end; // privacy: results are encrypted
      if (start < end || p.proc !== 0) {
        const r = this.body.reset(bytes, start, end);
        try {
          if (start < end) p.decoder.decodeReply(r, p.version, p.proc, ro, p, this.ctx);
        } catch (e) {
          short = true;
          if (!(e instanceof XdrShort)) p.detail.decodeError = e instanceof Error ? e.message : String(e);
        }
      }
      // Accepted and executed, but no program status to show (void result, or RPCSEC_GSS privacy).
      if (ro.status === undefined) ro.status = 'SUCCESS';
    } else if (ro.status === undefined) ro.status = 'SUCCESS';
    this.counters.matched++;
    const ans = p.fromA ? p.conv.answeredA : p.conv.answeredB;
    ans.set(p.xid, p.retransmitOf ?? p.frame, p.firstSec, p.firstNsec);
    if (this.answered !== undefined) {
      this.answered(p, procedureName(p), failure, (meta.tsSec - p.firstSec) * 1e9 + (meta.tsNsec - p.firstNsec));
    }
    this.emitCall(p, ro, meta, short);
    if (p.dups !== undefined) for (const d of p.dups) this.emitCall(d, ro, meta, short);
  }

  private unanswered(p: Pending): void {
    this.counters.noReply++;
    this.emitCall(p, undefined, undefined, false);
    if (p.dups !== undefined) for (const d of p.dups) this.unanswered(d);
  }

  private emitCall(p: Pending, ro: ReplyOut | undefined, rmeta: MsgMeta | undefined, replyShort: boolean): void {
    if (!this.events) return;
    const dec = p.decoder;
    const procedure = procedureName(p);
    const ts = this.secNs(p.tsSec) + BigInt(p.tsNsec);
    let durationNs: bigint | undefined;
    let latencyMs: number | undefined;
    let replyTs: string | undefined;
    if (rmeta !== undefined) {
      const dn = (rmeta.tsSec - p.tsSec) * 1e9 + (rmeta.tsNsec - p.tsNsec);
      durationNs = BigInt(dn);
      latencyMs = dn / 1e6;
      replyTs = this.nsText(rmeta.tsSec, rmeta.tsNsec);
    }
    const ops = p.ops;
    const status = ro?.status;
    const data = rpcEventData(dec.name, procedure, p, p, ro, rmeta, replyTs, latencyMs, replyShort);
    const level: Level = status === undefined ? 'warn' : OK_STATUSES.has(status) ? 'info' : 'warn';
    this.emit({
      kind: 'rpc',
      ts,
      clock: 'capture',
      durationNs,
      line: p.frame,
      level,
      // Under RPCSEC_GSS privacy the reply's "SUCCESS" is the RPC layer's: the program's own status is encrypted.
      text: p.detail.encrypted === true ? `${rpcText(dec.name, p.version, procedure, ops, status)} (RPCSEC_GSS privacy: arguments and results encrypted)` : rpcText(dec.name, p.version, procedure, ops, status),
      data: data as Readonly<Record<string, unknown>> satisfies Readonly<Record<string, unknown>>,
    });
  }

  /** BigInt(sec) * 10^9, cached for the current second (consecutive messages share it). */
  private secNs(sec: number): bigint {
    if (sec !== this.cachedSec) {
      this.cachedSec = sec;
      this.cachedSecNs = BigInt(sec) * 1_000_000_000n;
    }
    return this.cachedSecNs;
  }

  /** Decimal text of sec * 10^9 + nsec, as BigInt's toString gives it, without BigInt arithmetic in the usual case. */
  private nsText(sec: number, nsec: number): string {
    if (sec >= 1 && nsec >= 0 && nsec < 1_000_000_000) {
      if (sec !== this.textSec) {
        this.textSec = sec;
        this.textSecStr = String(sec);
      }
      const n = String(nsec);
      return this.textSecStr + ZEROS.slice(n.length) + n;
    }
    return (this.secNs(sec) + BigInt(nsec)).toString();
  }

  private orphan(h: RpcHeaderSlot, conv: RpcConversation, fromA: boolean, meta: MsgMeta): void {
    this.counters.orphanReplies++;
    if (!this.events) return;
    const ts = BigInt(meta.tsSec) * 1_000_000_000n + BigInt(meta.tsNsec);
    const status = rpcFailureStatus(h);
    const data: RpcData = {
      xid: h.xid,
      program: '0',
      programNumber: 0,
      version: 0,
      procedure: 'UNKNOWN',
      procedureNumber: -1,
      ...(status !== undefined ? { status } : {}),
      client: fromA ? conv.addrB : conv.addrA,
      server: fromA ? conv.addrA : conv.addrB,
      replyFrame: meta.frame,
      replyTs: ts.toString(),
      replyFrameOffset: meta.offset,
      orphanReply: true,
      transport: conv.transport,
      detail: {},
    };
    this.emit({
      kind: 'rpc',
      ts,
      clock: 'capture',
      line: meta.frame,
      level: 'notice',
      text: `RPC reply xid 0x${h.xid.toString(16).padStart(8, '0')} without a captured call`,
      data: data as unknown as Readonly<Record<string, unknown>>,
    });
  }
}

function procedureName(p: Pending): string {
  const dec = p.decoder;
  return dec.knowsVersion(p.version) ? dec.procName(p.version, p.proc) : p.proc === 0 ? 'NULL' : `PROC_${p.proc}`;
}

export function programLabel(name: RpcProgramName, version: number): string {
  switch (name) {
    case 'nfs': return `NFSv${version}`;
    case 'nfs_cb': return 'NFSv4 CB';
    case 'nlm': return `NLMv${version}`;
    case 'nsm': return 'NSM';
    case 'mount': return `MOUNTv${version}`;
    case 'portmap': return version === 2 ? 'PORTMAPv2' : `RPCBINDv${version}`;
    default: return name === '100227' ? `NFS_ACLv${version}` : `RPC ${name} v${version}`;
  }
}

function rpcText(name: RpcProgramName, version: number, procedure: string, ops: readonly string[] | undefined, status: string | undefined): string {
  let t = `${programLabel(name, version)} ${procedure}`;
  if (ops !== undefined && ops.length > 0) t += ` ${ops.join(',')}`;
  t += status !== undefined ? ` -> ${status}` : ' (no reply captured)';
  return t;
}
