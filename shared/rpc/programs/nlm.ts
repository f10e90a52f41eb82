/**
 * NLM v1/v3/v4 (Open Group XNFS C702 ch. 10 and 14; Linux fs/lockd/xdr.c, xdr4.c).
 * v1/v3 offsets and lengths are 32-bit, v4 64-bit. The *_MSG calls carry the arguments of the synchronous
 * procedure and get a void reply; the answer travels back as a separate *_RES call whose args hold the status.
 */
import { NLM4_STAT, NLM_PROCS, NLM_STAT, nameOr } from '../names';
import type { XdrReader } from '../xdr';
import type { CallOut, DecodeContext, ProgramDecoder, ReplyOut } from './types';

function statName(v: number, st: number): string {
  return v === 4 ? nameOr(NLM4_STAT, st, 'NLM4_STAT_') : nameOr(NLM_STAT, st, 'LCK_STAT_');
}

function lock(r: XdrReader, v: number, d: Record<string, unknown>, ctx: DecodeContext): void {
  d.caller_name = r.string(1024);
  const fh = r.opaqueHex(64);
  d.fh = fh;
  const p = ctx.fhNames.get(fh);
  if (p !== undefined) d.path = p;
  d.owner = r.owner();
  d.svid = r.i32();
  if (v === 4) {
    d.offset = r.u64();
    d.len = r.u64();
  } else {
    d.offset = String(r.u32());
    d.len = String(r.u32());
  }
}

/** nlm_testres / nlm_res / nlm_shareres body after the cookie. */
function res(r: XdrReader, v: number, proc: number, d: Record<string, unknown>, out: ReplyOut | undefined): void {
  d.cookie = r.opaqueHex(32);
  const st = r.u32();
  const name = statName(v, st);
  if (out) {
    out.statusCode = st;
    out.status = name;
  } else {
    d.stat = name;
    d.statCode = st;
  }
  const isTest = proc === 1 || proc === 6 || proc === 11;
  if (isTest && st === 1) {
    // nlm_holder of the conflicting lock
    const holder: Record<string, unknown> = {};
    holder.exclusive = r.bool();
    holder.svid = r.i32();
    holder.owner = r.owner();
    if (v === 4) {
      holder.offset = r.u64();
      holder.len = r.u64();
    } else {
      holder.offset = String(r.u32());
      holder.len = String(r.u32());
    }
    d.holder = holder;
  } else if (proc === 20 || proc === 21) {
    d.sequence = r.i32();
  }
}

function decodeCall(r: XdrReader, v: number, p: number, out: CallOut, ctx: DecodeContext): void {
  const d = out.detail;
  switch (p) {
    case 1: case 6: // TEST
    case 5: case 10: // GRANTED (nlm_testargs)
      d.cookie = r.opaqueHex(32);
      d.exclusive = r.bool();
      lock(r, v, d, ctx);
      return;
    case 2: case 7: case 22: // LOCK, LOCK_MSG, NM_LOCK
      d.cookie = r.opaqueHex(32);
      d.block = r.bool();
      d.exclusive = r.bool();
      lock(r, v, d, ctx);
      d.reclaim = r.bool();
      d.state = r.i32();
      return;
    case 3: case 8: // CANCEL
      d.cookie = r.opaqueHex(32);
      d.block = r.bool();
      d.exclusive = r.bool();
      lock(r, v, d, ctx);
      return;
    case 4: case 9: // UNLOCK
      d.cookie = r.opaqueHex(32);
      lock(r, v, d, ctx);
      return;
    case 11: case 12: case 13: case 14: case 15: // *_RES: the answer to a *_MSG, as call arguments
      res(r, v, p, d, undefined);
      return;
    case 16: // Linux statd -> lockd reboot notification: mon_name, state, priv
      d.mon_name = r.string(1024);
      d.state = r.i32();
      return;
    case 20: case 21: { // SHARE, UNSHARE: nlm_shareargs
      d.cookie = r.opaqueHex(32);
      d.caller_name = r.string(1024);
      d.fh = r.opaqueHex(64);
      d.owner = r.owner();
      d.mode = r.u32();
      d.access = r.u32();
      d.reclaim = r.bool();
      return;
    }
    case 23: // FREE_ALL: nlm_notify
      d.name = r.string(1024);
      d.state = r.i32();
      return;
    default:
      return;
  }
}

export const nlmDecoder: ProgramDecoder = {
  name: 'nlm',
  number: 100021,
  knowsVersion: (v) => v === 1 || v === 3 || v === 4,
  procName: (_v, p) => nameOr(NLM_PROCS, p, 'PROC_'),
  decodeCall: decodeCall,
  decodeReply(r, v, p, out, call) {
    // Synchronous procedures return nlm_res/nlm_testres/nlm_shareres; NULL, *_MSG, *_RES, FREE_ALL are void.
    if (p === 1 || p === 2 || p === 3 || p === 4 || p === 5 || p === 20 || p === 21 || p === 22) res(r, v, p, call.detail, out);
  },
};
