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
 * Parse an RPC header at [start, end). Returns undefined when the bytes are not an ONC RPC message
 * (or are too short to tell). Never throws.
 */
export function parseRpcHeader(bytes: Uint8Array, start: number, end: number): RpcHeader | undefined {
  if (end - start < 12) return undefined;
  const r = new XdrReader(bytes, start, end);
  try {
    const xid = r.u32();
    const msgType = r.u32();
    if (msgType === 0) {
      if (r.u32() !== 2) return undefined; // rpcvers
      const program = r.u32();
      const version = r.u32();
      const procedure = r.u32();
      const credFlavor = r.u32();
      const credLen = r.u32();
      if (!KNOWN_FLAVOR(credFlavor) || credLen > MAX_AUTH_BYTES || (credLen & 3) !== 0) return undefined;
      if (r.pos + credLen > end) return undefined;
      const credStart = r.pos;
      let cred: RpcCred;
      try {
        const body = r.pos;
        // RPCSEC_GSS credentials carry a per-call sequence number: not worth interning.
        cred = credFlavor === 6 ? readCred(r, credFlavor, credLen) : credInterner.get(bytes, body - 8, body + credLen, () => readCred(r, credFlavor, credLen));
      } catch {
        cred = { flavor: nameOr(AUTH_FLAVOR, credFlavor, 'AUTH_') };
      }
      let gssService = 0;
      let gssControl = false;
      if (credFlavor === 6 && credLen >= 20) {
        const g = new XdrReader(bytes, credStart + 4, credStart + 16);
        gssControl = g.u32() !== 0;
        g.u32();
        gssService = g.u32();
      }
      r.pos = credStart + credLen;
      const verfFlavor = r.u32();
      const verfLen = r.u32();
      if (!KNOWN_FLAVOR(verfFlavor) || verfLen > MAX_AUTH_BYTES) return undefined;
      r.skip(verfLen);
      return { kind: 'call', xid, program, version, procedure, credFlavor, cred, gssService, gssControl, bodyStart: r.pos };
    }
    if (msgType === 1) {
      const replyStat = r.u32();
      if (replyStat === 0) {
        const verfFlavor = r.u32();
        const verfLen = r.u32();
        if (!KNOWN_FLAVOR(verfFlavor) || verfLen > MAX_AUTH_BYTES) return undefined;
        r.skip(verfLen);
        const acceptStat = r.u32();
        if (acceptStat > 5) return undefined;
        let mismatchLow: number | undefined;
        let mismatchHigh: number | undefined;
        if (acceptStat === 2 && r.remaining >= 8) {
          mismatchLow = r.u32();
          mismatchHigh = r.u32();
        }
        return { kind: 'reply', xid, replyStat, acceptStat, rejectStat: 0, authStat: 0, mismatchLow, mismatchHigh, bodyStart: r.pos };
      }
      if (replyStat === 1) {
        const rejectStat = r.u32();
        if (rejectStat === 0) {
          const lo = r.u32();
          const hi = r.u32();
          return { kind: 'reply', xid, replyStat, acceptStat: 0, rejectStat, authStat: 0, mismatchLow: lo, mismatchHigh: hi, bodyStart: r.pos };
        }
        if (rejectStat === 1) {
          const authStat = r.u32();
          if (authStat > 14) return undefined;
          return { kind: 'reply', xid, replyStat, acceptStat: 0, rejectStat, authStat, bodyStart: r.pos };
        }
      }
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** Status name of a reply that was not executed (accepted but not SUCCESS, or denied). */
export function rpcFailureStatus(h: RpcReplyHeader): string | undefined {
  if (h.replyStat === 0) return h.acceptStat === 0 ? undefined : nameOr(ACCEPT_STAT, h.acceptStat, 'ACCEPT_');
  return nameOr(REJECT_STAT, h.rejectStat, 'REJECT_');
}

export function authStatName(n: number): string {
  return nameOr(AUTH_STAT, n, 'AUTH_');
}
