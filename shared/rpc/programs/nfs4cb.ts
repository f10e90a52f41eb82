/**
 * NFSv4 callback program (RFC 7530 §16.2 / RFC 8881 §20): CB_NULL and CB_COMPOUND. The program number is chosen
 * by the client (SETCLIENTID cb_program, CREATE_SESSION csa_cb_program; Linux uses 0x40000000), so it is
 * recognised by content: a learnt callback program, or a transient-range program (RFC 5531 §7.3,
 * 0x40000000-0x5fffffff) whose version-1 COMPOUND arguments parse as CB_COMPOUND.
 */
import { NFS4_CB_OPS, NFS4_CB_PROCS, nameOr } from '../names';
import type { XdrReader } from '../xdr';
import { fattr4, fh4, lockOwner, openDelegation, sessionid, stateid, writeResponse, type Obj } from './nfs4common';
import { nfs4StatName } from './nfs4';
import type { CallOut, DecodeContext, ProgramDecoder, ReplyOut } from './types';

export const cbOpName = (n: number): string => nameOr(NFS4_CB_OPS, n, 'CB_OP_');

function notify4(r: XdrReader): void {
  const n = r.count(256);
  for (let i = 0; i < n; i++) {
    r.bitmap();
    r.skipOpaque();
  }
}

function decodeCbArgs(op: number, r: XdrReader, o: Obj, ctx: DecodeContext): void {
  const fhWithPath = (): void => {
    const fh = fh4(r);
    o.fh = fh;
    const p = ctx.fhNames.get(fh);
    if (p !== undefined) o.path = p;
  };
  switch (op) {
    case 3: fhWithPath(); o.attrs = r.bitmap(); return; // CB_GETATTR
    case 4: o.stateid = stateid(r); o.truncate = r.bool(); fhWithPath(); return; // CB_RECALL
    case 5: { // CB_LAYOUTRECALL
      o.layoutType = r.u32(); o.iomode = r.u32(); o.changed = r.bool();
      const t = r.u32();
      o.recallType = ['', 'LAYOUTRECALL4_FILE', 'LAYOUTRECALL4_FSID', 'LAYOUTRECALL4_ALL'][t] ?? String(t);
      if (t === 1) { fhWithPath(); o.offset = r.u64(); o.length = r.u64(); o.stateid = stateid(r); }
      else if (t === 2) r.skip(16);
      return;
    }
    case 6: o.stateid = stateid(r); fhWithPath(); notify4(r); return; // CB_NOTIFY
    case 7: fhWithPath(); openDelegation(r, o); return; // CB_PUSH_DELEG
    case 8: case 9: o.objectsToKeep = r.u32(); o.typeMask = r.bitmap(); return; // CB_RECALL_ANY, CB_RECALLABLE_OBJ_AVAIL
    case 10: o.targetHighestSlotid = r.u32(); return; // CB_RECALL_SLOT
    case 11: { // CB_SEQUENCE
      o.sessionid = sessionid(r); o.seqid = r.u32(); o.slotid = r.u32(); o.highestSlotid = r.u32(); o.cachethis = r.bool();
      const n = r.count(64);
      for (let i = 0; i < n; i++) { r.skip(16); const m = r.count(1024); r.skip(8 * m); }
      o.referringCallLists = n;
      return;
    }
    case 12: o.contended = r.bool(); o.resourced = r.bool(); return; // CB_WANTS_CANCELLED
    case 13: { fhWithPath(); const lo = lockOwner(r); o.clientid = lo.clientid; o.owner = lo.owner; return; } // CB_NOTIFY_LOCK
    case 14: notify4(r); return; // CB_NOTIFY_DEVICEID
    case 15: { // CB_OFFLOAD
      fhWithPath(); o.stateid = stateid(r);
      const s = r.u32();
      o.offloadStatus = nfs4StatName(s);
      if (s === 0) writeResponse(r, o); else o.bytesCopied = r.u64();
      return;
    }
    case 10044: return;
    default:
      throw new RangeError(`unknown callback operation ${op}`);
  }
}

function decodeCbRes(op: number, status: number, r: XdrReader, o: Obj): void {
  if (status !== 0) return;
  if (op === 3) o.attrs = fattr4(r);
  else if (op === 11) {
    o.sessionid = sessionid(r); o.seqid = r.u32(); o.slotid = r.u32(); o.highestSlotid = r.u32(); o.targetHighestSlotid = r.u32();
  }
}

/** Does this look like CB_COMPOUND4args? Used to recognise a callback program we were not told about. */
export function looksLikeCbCompound(r: XdrReader): boolean {
  try {
    const tagLen = r.u32();
    if (tagLen > 1024) return false;
    r.skip(tagLen);
    const minor = r.u32();
    if (minor > 2) return false;
    r.u32(); // callback_ident
    const n = r.u32();
    if (n > 1024) return false;
    if (n === 0) return true;
    const op = r.u32();
    return NFS4_CB_OPS.has(op);
  } catch {
    return false;
  }
}

export const nfs4CbDecoder: ProgramDecoder = {
  name: 'nfs_cb',
  number: 0x40000000,
  knowsVersion: (v) => v === 1 || v === 4,
  procName: (_v, p) => nameOr(NFS4_CB_PROCS, p, 'CB_PROC_'),
  listsOps: true,
  decodeCall(r, _v, p, out: CallOut, ctx) {
    if (p !== 1) return;
    const d = out.detail;
    d.tag = r.string(64);
    d.minorversion = r.u32();
    d.callbackIdent = r.u32();
    const n = r.count(1024);
    const ops: string[] = [];
    const entries: Obj[] = [];
    out.ops = ops;
    d.ops = entries;
    for (let i = 0; i < n; i++) {
      const op = r.u32();
      const o: Obj = { op: cbOpName(op) };
      ops.push(o.op as string);
      entries.push(o);
      decodeCbArgs(op, r, o, ctx);
    }
  },
  decodeReply(r, _v, p, out: ReplyOut, call) {
    if (p !== 1) return;
    const status = r.u32();
    out.statusCode = status;
    out.status = nfs4StatName(status);
    r.skipOpaque();
    const n = r.count(1024);
    const opStatuses: string[] = [];
    out.opStatuses = opStatuses;
    const entries = (call.detail.ops as Obj[] | undefined) ?? [];
    for (let i = 0; i < n; i++) {
      const op = r.u32();
      const s = r.u32();
      const name = nfs4StatName(s);
      opStatuses.push(name);
      let o = entries[i];
      if (o === undefined || o.op !== cbOpName(op)) {
        o = { op: cbOpName(op) };
        entries[i] = o;
      }
      o.status = name;
      const res: Obj = {};
      decodeCbRes(op, s, r, res);
      if (Object.keys(res).length > 0) o.res = res;
    }
  },
};
