/**
 * NFSv4.0/4.1/4.2 COMPOUND (RFC 7530 §16, RFC 8881 §18, RFC 7862 §15, RFC 8276).
 * COMPOUND has no per-op lengths, so every argument and result is walked to find the next operation.
 * detail.ops[i] = { op, ...arguments, status?, res? } with the reply merged in by position.
 * The current file handle is followed through PUTROOTFH/PUTFH/LOOKUP/LOOKUPP/SAVEFH/RESTOREFH so that
 * GETFH results can be tied to path names (shared with MOUNT/NFSv3 through ctx.fhNames).
 */
import {
  LAYOUT_IOMODE, LAYOUT_TYPE, NFS4_OPEN_CLAIM, NFS4_OPS, NFS4_PROCS, NFS4_SHARE_ACCESS, NFS4_SHARE_DENY, NFS4_STAT, nameOr,
} from '../names';
import type { XdrReader } from '../xdr';
import {
  cbSecParms, changeInfo, channelAttrs, fattr4, fh4, lockDenied, lockOwner, lockType, netaddr, netloc, nfstime,
  openDelegation, sessionid, spOps, stateid, writeResponse, type Obj,
} from './nfs4common';
import { joinPath, type CallOut, type DecodeContext, type ProgramDecoder, type ReplyOut } from './types';

export const nfs4StatName = (n: number): string => nameOr(NFS4_STAT, n, 'NFS4ERR_');
export const nfs4OpName = (n: number): string => nameOr(NFS4_OPS, n, 'OP_');

interface FhState {
  path: string | undefined;
  saved: string | undefined;
}

function shareAccess(n: number): string {
  const base = nameOr(NFS4_SHARE_ACCESS, n & 0xff, 'ACCESS_');
  const want = n & 0xff00;
  return want ? `${base}|WANT_0x${want.toString(16)}` : base;
}

function decodeArgs(op: number, r: XdrReader, o: Obj, st: FhState, ctx: DecodeContext): void {
  switch (op) {
    case 3: o.access = r.u32(); return; // ACCESS
    case 4: o.seqid = r.u32(); o.stateid = stateid(r); return; // CLOSE
    case 5: o.offset = r.u64(); o.count = r.u32(); return; // COMMIT
    case 6: { // CREATE
      const type = r.u32();
      o.type = type;
      if (type === 5) r.skipOpaque();
      else if (type === 3 || type === 4) r.skip(8);
      o.name = r.string(255);
      fattr4(r);
      st.path = joinPath(st.path, o.name as string);
      return;
    }
    case 7: o.clientid = r.fixedHex(8); return; // DELEGPURGE
    case 8: o.stateid = stateid(r); return; // DELEGRETURN
    case 9: o.attrs = r.bitmap(); return; // GETATTR
    case 10: return; // GETFH
    case 16: st.path = st.path === undefined ? undefined : st.path.replace(/\/[^/]*$/, '') || '/'; return; // LOOKUPP
    case 11: o.name = r.string(255); return; // LINK
    case 12: { // LOCK
      o.locktype = lockType(r.u32());
      o.reclaim = r.bool();
      o.offset = r.u64();
      o.length = r.u64();
      const newOwner = r.bool();
      o.newLockOwner = newOwner;
      if (newOwner) {
        o.openSeqid = r.u32();
        o.openStateid = stateid(r);
        o.lockSeqid = r.u32();
        const lo = lockOwner(r);
        o.clientid = lo.clientid;
        o.owner = lo.owner;
      } else {
        o.lockStateid = stateid(r);
        o.lockSeqid = r.u32();
      }
      return;
    }
    case 13: { // LOCKT
      o.locktype = lockType(r.u32());
      o.offset = r.u64();
      o.length = r.u64();
      const lo = lockOwner(r);
      o.clientid = lo.clientid;
      o.owner = lo.owner;
      return;
    }
    case 14: // LOCKU
      o.locktype = lockType(r.u32());
      o.seqid = r.u32();
      o.lockStateid = stateid(r);
      o.offset = r.u64();
      o.length = r.u64();
      return;
    case 15: // LOOKUP
      o.name = r.string(1024);
      st.path = joinPath(st.path, o.name as string);
      return;
    case 17: case 37: fattr4(r); return; // NVERIFY, VERIFY
    case 18: { // OPEN
      o.seqid = r.u32();
      o.shareAccess = shareAccess(r.u32());
      o.shareDeny = nameOr(NFS4_SHARE_DENY, r.u32(), 'DENY_');
      const ow = lockOwner(r);
      o.clientid = ow.clientid;
      o.owner = ow.owner;
      const opentype = r.u32();
      o.create = opentype === 1;
      if (opentype === 1) {
        const mode = r.u32();
        o.createMode = ['UNCHECKED4', 'GUARDED4', 'EXCLUSIVE4', 'EXCLUSIVE4_1'][mode] ?? String(mode);
        if (mode === 0 || mode === 1) fattr4(r);
        else if (mode === 2) r.skip(8);
        else if (mode === 3) { r.skip(8); fattr4(r); }
      }
      const claim = r.u32();
      o.claim = nameOr(NFS4_OPEN_CLAIM, claim, 'CLAIM_');
      switch (claim) {
        case 0: case 3: o.name = r.string(1024); st.path = joinPath(st.path, o.name as string); break;
        case 1: o.delegateType = r.u32(); break;
        case 2: o.delegStateid = stateid(r); o.name = r.string(1024); st.path = joinPath(st.path, o.name as string); break;
        case 4: case 5: break;
        case 6: o.delegStateid = stateid(r); break;
        default: throw new RangeError('bad claim');
      }
      return;
    }
    case 19: o.createdir = r.bool(); return; // OPENATTR
    case 20: o.stateid = stateid(r); o.seqid = r.u32(); return; // OPEN_CONFIRM
    case 21: // OPEN_DOWNGRADE
      o.stateid = stateid(r); o.seqid = r.u32();
      o.shareAccess = shareAccess(r.u32()); o.shareDeny = nameOr(NFS4_SHARE_DENY, r.u32(), 'DENY_');
      return;
    case 22: { // PUTFH
      const fh = fh4(r);
      o.fh = fh;
      st.path = ctx.fhNames.get(fh);
      if (st.path !== undefined) o.path = st.path;
      return;
    }
    case 23: st.path = undefined; return; // PUTPUBFH
    case 24: st.path = '/'; return; // PUTROOTFH
    case 25: o.stateid = stateid(r); o.offset = r.u64(); o.count = r.u32(); return; // READ
    case 26: o.cookie = r.u64(); r.skip(8); o.dircount = r.u32(); o.maxcount = r.u32(); r.bitmap(); return; // READDIR
    case 27: case 31: case 32: case 10044: // READLINK RESTOREFH SAVEFH ILLEGAL
      if (op === 32) st.saved = st.path;
      if (op === 31) st.path = st.saved;
      return;
    case 28: o.name = r.string(1024); return; // REMOVE
    case 29: o.oldname = r.string(1024); o.newname = r.string(1024); return; // RENAME
    case 30: o.clientid = r.fixedHex(8); return; // RENEW
    case 33: o.name = r.string(1024); return; // SECINFO
    case 34: o.stateid = stateid(r); fattr4(r); return; // SETATTR
    case 35: { // SETCLIENTID
      r.skip(8);
      o.clientName = r.owner();
      const prog = r.u32();
      o.cbProgram = prog;
      ctx.cbPrograms.add(prog);
      o.cbAddr = netaddr(r);
      o.callbackIdent = r.u32();
      return;
    }
    case 36: o.clientid = r.fixedHex(8); r.skip(8); return; // SETCLIENTID_CONFIRM
    case 38: // WRITE
      o.stateid = stateid(r); o.offset = r.u64();
      o.stable = ['UNSTABLE4', 'DATA_SYNC4', 'FILE_SYNC4'][r.u32()] ?? 'unknown';
      o.count = r.skipOpaque();
      return;
    case 39: { const lo = lockOwner(r); o.clientid = lo.clientid; o.owner = lo.owner; return; } // RELEASE_LOCKOWNER
    case 40: { const prog = r.u32(); o.cbProgram = prog; ctx.cbPrograms.add(prog); cbSecParms(r); return; } // BACKCHANNEL_CTL
    case 41: o.sessionid = sessionid(r); o.dir = r.u32(); r.bool(); return; // BIND_CONN_TO_SESSION
    case 42: { // EXCHANGE_ID
      r.skip(8);
      o.clientOwner = r.owner();
      o.flags = `0x${r.u32().toString(16)}`;
      const how = r.u32();
      o.stateProtect = ['SP4_NONE', 'SP4_MACH_CRED', 'SP4_SSV'][how] ?? String(how);
      if (how === 1) spOps(r);
      else if (how === 2) {
        spOps(r);
        const h = r.count(64); for (let i = 0; i < h; i++) r.skipOpaque();
        const e = r.count(64); for (let i = 0; i < e; i++) r.skipOpaque();
        r.skip(8);
      }
      if (r.count(1) === 1) { o.implDomain = r.string(256); o.implName = r.string(256); nfstime(r); }
      return;
    }
    case 43: { // CREATE_SESSION
      o.clientid = r.fixedHex(8);
      o.sequence = r.u32();
      o.flags = `0x${r.u32().toString(16)}`;
      o.foreChannel = channelAttrs(r);
      o.backChannel = channelAttrs(r);
      const prog = r.u32();
      o.cbProgram = prog;
      ctx.cbPrograms.add(prog);
      cbSecParms(r);
      return;
    }
    case 44: o.sessionid = sessionid(r); return; // DESTROY_SESSION
    case 45: o.stateid = stateid(r); return; // FREE_STATEID
    case 46: r.bool(); r.bitmap(); nfstime(r); nfstime(r); r.bitmap(); r.bitmap(); return; // GET_DIR_DELEGATION
    case 47: o.deviceid = r.fixedHex(16); o.layoutType = nameOr(LAYOUT_TYPE, r.u32(), 'LAYOUT4_'); o.maxcount = r.u32(); r.bitmap(); return;
    case 48: o.layoutType = nameOr(LAYOUT_TYPE, r.u32(), 'LAYOUT4_'); o.maxdevices = r.u32(); o.cookie = r.u64(); r.skip(8); return;
    case 49: { // LAYOUTCOMMIT
      o.offset = r.u64(); o.length = r.u64(); o.reclaim = r.bool(); o.stateid = stateid(r);
      if (r.bool()) o.lastWriteOffset = r.u64();
      if (r.bool()) nfstime(r);
      r.u32(); r.skipOpaque();
      return;
    }
    case 50: // LAYOUTGET
      o.signalLayoutAvail = r.bool();
      o.layoutType = nameOr(LAYOUT_TYPE, r.u32(), 'LAYOUT4_');
      o.iomode = nameOr(LAYOUT_IOMODE, r.u32(), 'IOMODE_');
      o.offset = r.u64(); o.length = r.u64(); o.minlength = r.u64();
      o.stateid = stateid(r); o.maxcount = r.u32();
      return;
    case 51: { // LAYOUTRETURN
      o.reclaim = r.bool();
      o.layoutType = nameOr(LAYOUT_TYPE, r.u32(), 'LAYOUT4_');
      o.iomode = nameOr(LAYOUT_IOMODE, r.u32(), 'IOMODE_');
      const rt = r.u32();
      o.returnType = ['', 'LAYOUTRETURN4_FILE', 'LAYOUTRETURN4_FSID', 'LAYOUTRETURN4_ALL'][rt] ?? String(rt);
      if (rt === 1) { o.offset = r.u64(); o.length = r.u64(); o.stateid = stateid(r); r.skipOpaque(); }
      return;
    }
    case 52: o.style = r.u32(); return; // SECINFO_NO_NAME
    case 53: // SEQUENCE
      o.sessionid = sessionid(r); o.seqid = r.u32(); o.slotid = r.u32(); o.highestSlotid = r.u32(); o.cachethis = r.bool();
      return;
    case 54: r.skipOpaque(); r.skipOpaque(); return; // SET_SSV
    case 55: { const n = r.count(1024); const ids: string[] = []; for (let i = 0; i < n; i++) ids.push(stateid(r)); o.stateids = ids; return; }
    case 56: { // WANT_DELEGATION
      o.want = r.u32();
      const claim = r.u32();
      o.claim = nameOr(NFS4_OPEN_CLAIM, claim, 'CLAIM_');
      if (claim === 1) o.delegateType = r.u32();
      return;
    }
    case 57: o.clientid = r.fixedHex(8); return; // DESTROY_CLIENTID
    case 58: o.oneFs = r.bool(); return; // RECLAIM_COMPLETE
    case 59: case 62: o.stateid = stateid(r); o.offset = r.u64(); o.length = r.u64(); return; // ALLOCATE DEALLOCATE
    case 60: { // COPY
      o.srcStateid = stateid(r); o.dstStateid = stateid(r); o.srcOffset = r.u64(); o.dstOffset = r.u64(); o.count = r.u64();
      o.consecutive = r.bool(); o.synchronous = r.bool();
      const n = r.count(64); for (let i = 0; i < n; i++) netloc(r);
      return;
    }
    case 61: o.stateid = stateid(r); o.destination = netloc(r); return; // COPY_NOTIFY
    case 63: o.stateid = stateid(r); o.offset = r.u64(); o.count = r.u64(); r.bitmap(); return; // IO_ADVISE
    case 64: { // LAYOUTERROR
      o.offset = r.u64(); o.length = r.u64(); o.stateid = stateid(r);
      const n = r.count(64); for (let i = 0; i < n; i++) r.skip(24);
      return;
    }
    case 65: o.offset = r.u64(); o.length = r.u64(); o.stateid = stateid(r); r.skip(32); r.skip(16); r.u32(); r.skipOpaque(); return;
    case 66: case 67: o.stateid = stateid(r); return; // OFFLOAD_CANCEL/STATUS
    case 68: o.stateid = stateid(r); o.offset = r.u64(); o.count = r.u32(); return; // READ_PLUS
    case 69: o.stateid = stateid(r); o.offset = r.u64(); o.what = r.u32(); return; // SEEK
    case 70: o.stateid = stateid(r); r.u32(); r.skip(48); r.skipOpaque(); return; // WRITE_SAME
    case 71: o.srcStateid = stateid(r); o.dstStateid = stateid(r); o.srcOffset = r.u64(); o.dstOffset = r.u64(); o.count = r.u64(); return;
    case 72: case 75: o.name = r.string(256); return; // GETXATTR REMOVEXATTR
    case 73: o.option = r.u32(); o.name = r.string(256); r.skipOpaque(); return; // SETXATTR
    case 74: o.cookie = r.u64(); o.maxcount = r.u32(); return; // LISTXATTRS
    default:
      // Unknown operation: its arguments cannot be skipped, the rest of the COMPOUND is unreadable.
      throw new RangeError(`unknown NFSv4 operation ${op}`);
  }
}

function decodeRes(op: number, status: number, r: XdrReader, o: Obj, st: FhState, ctx: DecodeContext): void {
  // Results with a body even on error.
  if (op === 34) { r.bitmap(); return; } // SETATTR: attrsset always present
  if (status !== 0) {
    if ((op === 12 || op === 13) && status === 10010) o.denied = lockDenied(r);
    else if (op === 35 && status === 10017) o.clientInUse = netaddr(r);
    else if (op === 50 && status === 10058) o.willSignalLayoutAvail = r.bool();
    else if (op === 47 && status === 10005) o.mincount = r.u32();
    else if (op === 60 && status === 10094) { r.bool(); r.bool(); }
    return;
  }
  switch (op) {
    case 3: o.supported = r.u32(); o.access = r.u32(); return;
    case 4: case 12: case 14: case 20: case 21: o.stateid = stateid(r); return; // CLOSE LOCK LOCKU OPEN_CONFIRM OPEN_DOWNGRADE
    case 5: r.skip(8); return;
    case 6: changeInfo(r); r.bitmap(); return;
    case 9: o.attrs = fattr4(r); return;
    case 10: { // GETFH: tie the handle to the path walked so far
      const fh = fh4(r);
      o.fh = fh;
      if (st.path !== undefined) { o.path = st.path; ctx.fhNames.set(fh, st.path); }
      return;
    }
    case 11: case 28: changeInfo(r); return; // LINK REMOVE
    case 29: changeInfo(r); changeInfo(r); return; // RENAME
    case 18: { // OPEN
      o.stateid = stateid(r);
      changeInfo(r);
      o.rflags = r.u32();
      r.bitmap();
      openDelegation(r, o);
      return;
    }
    case 25: o.eof = r.bool(); o.count = r.skipOpaque(); return; // READ
    case 26: { // READDIR
      r.skip(8);
      let n = 0;
      while (r.bool()) { r.skip(8); r.skipOpaque(); fattr4(r); n++; }
      o.entries = n;
      o.eof = r.bool();
      return;
    }
    case 27: r.skipOpaque(); return; // READLINK
    case 33: case 52: { // SECINFO, SECINFO_NO_NAME
      const n = r.count(64);
      for (let i = 0; i < n; i++) { const f = r.u32(); if (f === 6) { r.skipOpaque(); r.skip(8); } }
      return;
    }
    case 35: o.clientid = r.fixedHex(8); r.skip(8); return; // SETCLIENTID
    case 38: o.count = r.u32(); o.committed = r.u32(); r.skip(8); return; // WRITE
    case 41: o.sessionid = sessionid(r); r.u32(); r.bool(); return;
    case 42: { // EXCHANGE_ID
      o.clientid = r.fixedHex(8);
      o.sequenceid = r.u32();
      o.flags = `0x${r.u32().toString(16)}`;
      const how = r.u32();
      if (how === 1) spOps(r);
      else if (how === 2) { spOps(r); r.skip(16); const n = r.count(64); for (let i = 0; i < n; i++) r.skipOpaque(); }
      r.skip(8);
      o.serverOwner = r.owner();
      o.serverScope = r.owner();
      if (r.count(1) === 1) { o.implDomain = r.string(256); o.implName = r.string(256); nfstime(r); }
      return;
    }
    case 43: // CREATE_SESSION
      o.sessionid = sessionid(r); o.sequence = r.u32(); o.flags = `0x${r.u32().toString(16)}`;
      o.foreChannel = channelAttrs(r); o.backChannel = channelAttrs(r);
      return;
    case 46: { // GET_DIR_DELEGATION
      const nf = r.u32();
      if (nf === 0) { r.skip(8); o.stateid = stateid(r); r.bitmap(); r.bitmap(); r.bitmap(); } else r.bool();
      return;
    }
    case 47: o.layoutType = r.u32(); r.skipOpaque(); r.bitmap(); return; // GETDEVICEINFO
    case 48: { r.skip(16); const n = r.count(4096); r.skip(16 * n); o.eof = r.bool(); return; }
    case 49: if (r.bool()) o.newSize = r.u64(); return;
    case 50: { // LAYOUTGET
      o.returnOnClose = r.bool();
      o.stateid = stateid(r);
      const n = r.count(64);
      const segs: Obj[] = [];
      for (let i = 0; i < n; i++) {
        const offset = r.u64(); const length = r.u64(); const iomode = nameOr(LAYOUT_IOMODE, r.u32(), 'IOMODE_');
        const type = nameOr(LAYOUT_TYPE, r.u32(), 'LAYOUT4_'); r.skipOpaque();
        segs.push({ offset, length, iomode, type });
      }
      o.layouts = segs;
      return;
    }
    case 51: if (r.bool()) o.stateid = stateid(r); return; // LAYOUTRETURN
    case 53: // SEQUENCE
      o.sessionid = sessionid(r); o.seqid = r.u32(); o.slotid = r.u32(); o.highestSlotid = r.u32();
      o.targetHighestSlotid = r.u32(); o.statusFlags = r.u32();
      return;
    case 54: r.skipOpaque(); return;
    case 55: { const n = r.count(1024); const s: string[] = []; for (let i = 0; i < n; i++) s.push(nfs4StatName(r.u32())); o.stateidStatus = s; return; }
    case 56: openDelegation(r, o); return; // WANT_DELEGATION
    case 60: writeResponse(r, o); r.bool(); r.bool(); return; // COPY
    case 61: { nfstime(r); o.stateid = stateid(r); const n = r.count(64); for (let i = 0; i < n; i++) netloc(r); return; }
    case 63: r.bitmap(); return;
    case 67: { o.count = r.u64(); if (r.count(1) === 1) o.complete = nfs4StatName(r.u32()); return; }
    case 68: { // READ_PLUS
      o.eof = r.bool();
      const n = r.count(1 << 16);
      for (let i = 0; i < n; i++) { const t = r.u32(); r.skip(8); if (t === 0) r.skipOpaque(); else r.skip(8); }
      return;
    }
    case 69: o.eof = r.bool(); o.offset = r.u64(); return;
    case 70: writeResponse(r, o); return;
    case 72: r.skipOpaque(); return;
    case 73: case 75: changeInfo(r); return;
    case 74: { o.cookie = r.u64(); const n = r.count(1 << 16); for (let i = 0; i < n; i++) r.skipOpaque(); o.eof = r.bool(); return; }
    default:
      return; // void results (PUTFH, LOOKUP, DELEGRETURN, RECLAIM_COMPLETE, ...)
  }
}

/** Walk the fh path through the ops of a reply the same way as the call did (GETFH needs the path at its position). */
function fhEffect(op: number, o: Obj, st: FhState, ctx: DecodeContext): void {
  switch (op) {
    case 22: st.path = typeof o.fh === 'string' ? ctx.fhNames.get(o.fh) : undefined; return;
    case 23: st.path = undefined; return;
    case 24: st.path = '/'; return;
    case 15: st.path = joinPath(st.path, String(o.name)); return;
    case 16: st.path = st.path === undefined ? undefined : st.path.replace(/\/[^/]*$/, '') || '/'; return;
    case 18: if (typeof o.name === 'string') st.path = joinPath(st.path, o.name); return;
    case 6: st.path = joinPath(st.path, String(o.name)); return;
    case 32: st.saved = st.path; return;
    case 31: st.path = st.saved; return;
    default:
      return;
  }
}

export const nfs4Decoder: ProgramDecoder = {
  name: 'nfs',
  number: 100003,
  knowsVersion: (v) => v === 4,
  procName: (_v, p) => nameOr(NFS4_PROCS, p, 'PROC_'),
  listsOps: true,
  decodeCall(r, _v, p, out: CallOut, ctx) {
    if (p !== 1) return;
    const d = out.detail;
    d.tag = r.string(64);
    d.minorversion = r.u32();
    const n = r.count(1024);
    const ops: string[] = [];
    const entries: Obj[] = [];
    out.ops = ops;
    d.ops = entries;
    const st: FhState = { path: undefined, saved: undefined };
    for (let i = 0; i < n; i++) {
      const op = r.u32();
      const o: Obj = { op: nfs4OpName(op) };
      ops.push(o.op as string);
      entries.push(o);
      decodeArgs(op, r, o, st, ctx);
    }
  },
  decodeReply(r, _v, p, out: ReplyOut, call, ctx) {
    if (p !== 1) return;
    const status = r.u32();
    out.statusCode = status;
    out.status = nfs4StatName(status);
    r.skipOpaque(); // tag
    const n = r.count(1024);
    const opStatuses: string[] = [];
    out.opStatuses = opStatuses;
    const entries = (call.detail.ops as Obj[] | undefined) ?? [];
    const st: FhState = { path: undefined, saved: undefined };
    for (let i = 0; i < n; i++) {
      const op = r.u32();
      const s = r.u32();
      const name = nfs4StatName(s);
      opStatuses.push(name);
      let o = entries[i];
      if (o === undefined || o.op !== nfs4OpName(op)) {
        o = { op: nfs4OpName(op) };
        entries[i] = o;
      }
      o.status = name;
      if (s === 0) fhEffect(op, o, st, ctx);
      const res: Obj = {};
      decodeRes(op, s, r, res, st, ctx);
      if (Object.keys(res).length > 0) o.res = res;
    }
    if (call.detail.ops === undefined && entries.length > 0) call.detail.ops = entries;
  },
};
