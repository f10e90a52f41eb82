/**
 * ONC RPC message header (RFC 5531 §9) and credentials (§8.2 AUTH_SYS, RFC 2203 RPCSEC_GSS).
 * Recognition is by content only: msg_type, rpcvers = 2, sane credential/verifier lengths. Ports never decide.
 */
import { ACCEPT_STAT, AUTH_FLAVOR, AUTH_STAT, REJECT_STAT, nameOr } from './names';
import type { RpcCred } from './types';
import { ByteInterner, XdrReader } from './xdr';

/** Clients repeat the same credential on every call: decode each distinct one once (RpcCred is read-only). */
const credInterner = new ByteInterner<RpcCred>(4096);

export const MAX_AUTH_BYTES = 400; // RFC 5531 §8.2: opaque_auth body is at most 400 bytes

export interface RpcCallHeader {
  readonly kind: 'call';
  readonly xid: number;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  readonly credFlavor: number;
  readonly cred: RpcCred;
  /** RPCSEC_GSS service 2 (integrity) wraps args as opaque+seq; 3 (privacy) makes them unreadable. */
  readonly gssService: number;
  /** RPCSEC_GSS control procedures (INIT/CONTINUE_INIT/DESTROY) carry tokens, not program args. */
  readonly gssControl: boolean;
  /** Offset of the program arguments. */
  readonly bodyStart: number;
}

export interface RpcReplyHeader {
  readonly kind: 'reply';
  readonly xid: number;
  readonly replyStat: number; // 0 MSG_ACCEPTED, 1 MSG_DENIED
  readonly acceptStat: number; // valid when replyStat 0
  readonly rejectStat: number; // valid when replyStat 1
  readonly authStat: number;
  readonly mismatchLow?: number;
  readonly mismatchHigh?: number;
  readonly bodyStart: number;
}

export type RpcHeader = RpcCallHeader | RpcReplyHeader;

const KNOWN_FLAVOR = (f: number): boolean => f <= 6 || (f >= 390003 && f <= 390008);

const GSS_PROC = ['DATA', 'INIT', 'CONTINUE_INIT', 'DESTROY'] as const;
const GSS_SERVICE = ['', 'none', 'integrity', 'privacy'] as const;

function readCred(r: XdrReader, flavor: number, len: number): RpcCred {
  const end = r.pos + len;
  const flavorName = nameOr(AUTH_FLAVOR, flavor, 'AUTH_');
  if (flavor === 1) {
    // authsys_parms: stamp, machinename<255>, uid, gid, gids<16>
    const sub = new XdrReader(r.bytes, r.pos, end);
    sub.u32();
    const machine = sub.string(255);
    const uid = sub.u32();
    const gid = sub.u32();
    const n = sub.count(16);
    const gids: number[] = [];
    for (let i = 0; i < n; i++) gids.push(sub.u32());
    return { flavor: flavorName, machine, uid, gid, gids };
  }
  if (flavor === 6 && len >= 20) {
    // rpc_gss_cred_vers_1_t: version, gss_proc, seq_num, service, handle
    const sub = new XdrReader(r.bytes, r.pos, end);
    sub.u32();
    const proc = sub.u32();
    const seq = sub.u32();
    const service = sub.u32();
    return { flavor: flavorName, gssProc: GSS_PROC[proc] ?? String(proc), gssService: GSS_SERVICE[service] || String(service), gssSeq: seq };
  }
  return { flavor: flavorName };
}

/**
 * A header filled in place by readRpcHeader: the tracker reads one per message and keeps nothing of it but
 * field values, so one object serves every message (two header objects per RPC were a sixth of what the
 * decoder allocated). Fields of the other message kind keep stale values; mismatchLow/High are reset.
 */
export class RpcHeaderSlot {
  kind: 'call' | 'reply' = 'call';
  xid = 0;
  // call
  program = 0;
  version = 0;
  procedure = 0;
  credFlavor = 0;
  cred: RpcCred = { flavor: 'AUTH_NONE' };
  gssService = 0;
  gssControl = false;
  // reply
  replyStat = 0;
  acceptStat = 0;
  rejectStat = 0;
  authStat = 0;
  mismatchLow: number | undefined = undefined;
  mismatchHigh: number | undefined = undefined;
  bodyStart = 0;
  /** Set false by a reader that never looks at `cred` (service-time tables): calls then skip decoding it and
   * `cred` only names the flavor. Recognition does not depend on it. */
  credentials = true;
}

/**
 * Parse an ONC RPC message header (RFC 5531 §9) at [start, end) into `h`: false (h partly overwritten) when the
 * bytes are not an ONC RPC message or are too short to tell. Never throws.
 */
export function readRpcHeader(bytes: Uint8Array, start: number, end: number, h: RpcHeaderSlot): boolean {
  end = Math.min(end, bytes.length);
  // Fixed-layout words read in place (no XdrReader per message); every read is bounds-checked first.
  if (end - start < 12) return false;
  const xid = be32(bytes, start);
  const msgType = be32(bytes, start + 4);
  if (msgType === 0) {
    if (end - start < 32 || be32(bytes, start + 8) !== 2) return false; // rpcvers
    const program = be32(bytes, start + 12);
    const version = be32(bytes, start + 16);
    const procedure = be32(bytes, start + 20);
    const credFlavor = be32(bytes, start + 24);
    const credLen = be32(bytes, start + 28);
    const credStart = start + 32;
    if (!KNOWN_FLAVOR(credFlavor) || credLen > MAX_AUTH_BYTES || (credLen & 3) !== 0) return false;
    if (credStart + credLen > end) return false;
    let cred: RpcCred;
    if (!h.credentials) cred = { flavor: nameOr(AUTH_FLAVOR, credFlavor, 'AUTH_') };
    else {
      try {
        // RPCSEC_GSS credentials carry a per-call sequence number: not worth interning.
        if (credFlavor === 6) cred = readCred(new XdrReader(bytes, credStart, end), credFlavor, credLen);
        else {
          cred =
            credInterner.find(bytes, credStart - 8, credStart + credLen) ??
            credInterner.add(readCred(new XdrReader(bytes, credStart, end), credFlavor, credLen));
        }
      } catch {
        cred = { flavor: nameOr(AUTH_FLAVOR, credFlavor, 'AUTH_') };
      }
    }
    let gssService = 0;
    let gssControl = false;
    if (credFlavor === 6 && credLen >= 20) {
      gssControl = be32(bytes, credStart + 4) !== 0;
      gssService = be32(bytes, credStart + 12);
    }
    const verf = credStart + credLen;
    if (end - verf < 8) return false;
    const verfFlavor = be32(bytes, verf);
    const verfLen = be32(bytes, verf + 4);
    if (!KNOWN_FLAVOR(verfFlavor) || verfLen > MAX_AUTH_BYTES) return false;
    const body = verf + 8 + verfLen + ((4 - (verfLen % 4)) % 4);
    if (body > end) return false;
    h.kind = 'call';
    h.xid = xid;
    h.program = program;
    h.version = version;
    h.procedure = procedure;
    h.credFlavor = credFlavor;
    h.cred = cred;
    h.gssService = gssService;
    h.gssControl = gssControl;
    h.bodyStart = body;
    return true;
  }
  if (msgType !== 1) return false;
  const replyStat = be32(bytes, start + 8);
  if (replyStat === 0) {
    if (end - start < 20) return false;
    const verfFlavor = be32(bytes, start + 12);
    const verfLen = be32(bytes, start + 16);
    if (!KNOWN_FLAVOR(verfFlavor) || verfLen > MAX_AUTH_BYTES) return false;
    const at = start + 20 + verfLen + ((4 - (verfLen % 4)) % 4);
    if (at + 4 > end) return false;
    const acceptStat = be32(bytes, at);
    if (acceptStat > 5) return false;
    if (acceptStat === 2 && end - (at + 4) >= 8) return reply(h, xid, replyStat, acceptStat, 0, 0, be32(bytes, at + 4), be32(bytes, at + 8), at + 12);
    return reply(h, xid, replyStat, acceptStat, 0, 0, undefined, undefined, at + 4);
  }
  if (replyStat === 1) {
    if (end - start < 16) return false;
    const rejectStat = be32(bytes, start + 12);
    if (rejectStat === 0) {
      if (end - start < 24) return false;
      return reply(h, xid, replyStat, 0, rejectStat, 0, be32(bytes, start + 16), be32(bytes, start + 20), start + 24);
    }
    if (rejectStat === 1) {
      if (end - start < 20) return false;
      const authStat = be32(bytes, start + 16);
      if (authStat > 14) return false;
      return reply(h, xid, replyStat, 0, rejectStat, authStat, undefined, undefined, start + 20);
    }
  }
  return false;
}

function be32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function reply(
  h: RpcHeaderSlot, xid: number, replyStat: number, acceptStat: number, rejectStat: number, authStat: number,
  mismatchLow: number | undefined, mismatchHigh: number | undefined, bodyStart: number,
): true {
  h.kind = 'reply';
  h.xid = xid;
  h.replyStat = replyStat;
  h.acceptStat = acceptStat;
  h.rejectStat = rejectStat;
  h.authStat = authStat;
  h.mismatchLow = mismatchLow;
  h.mismatchHigh = mismatchHigh;
  h.bodyStart = bodyStart;
  return true;
}

/** Status name of a reply that was not executed (accepted but not SUCCESS, or denied). */
export function rpcFailureStatus(h: Pick<RpcReplyHeader, 'replyStat' | 'acceptStat' | 'rejectStat'>): string | undefined {
  if (h.replyStat === 0) return h.acceptStat === 0 ? undefined : nameOr(ACCEPT_STAT, h.acceptStat, 'ACCEPT_');
  return nameOr(REJECT_STAT, h.rejectStat, 'REJECT_');
}

export function authStatName(n: number): string {
  return nameOr(AUTH_STAT, n, 'AUTH_');
}
