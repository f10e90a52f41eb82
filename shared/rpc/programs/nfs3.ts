/** NFSv2 (RFC 1094) and NFSv3 (RFC 1813) calls: file handles, names, offsets; replies: nfsstat. */
import { NFS2_PROCS, NFS2_STAT, NFS3_PROCS, NFS3_STAT, nameOr } from '../names';
import type { XdrReader } from '../xdr';
import { joinPath, type CallOut, type DecodeContext, type ProgramDecoder, type ReplyOut } from './types';

function fh3(r: XdrReader, out: CallOut, ctx: DecodeContext, key = 'fh'): string {
  const fh = r.opaqueHex(64);
  out.detail[key] = fh;
  const p = ctx.fhNames.get(fh);
  if (p !== undefined) out.detail[key === 'fh' ? 'path' : `${key}Path`] = p;
  return fh;
}

function dirop3(r: XdrReader, out: CallOut, ctx: DecodeContext, fhKey = 'fh', nameKey = 'name'): void {
  const fh = fh3(r, out, ctx, fhKey);
  const name = r.string(255);
  out.detail[nameKey] = name;
  const p = joinPath(ctx.fhNames.get(fh), name);
  if (p !== undefined) out.detail[nameKey === 'name' ? 'path' : `${nameKey}Path`] = p;
}

function decodeV3Call(r: XdrReader, proc: number, out: CallOut, ctx: DecodeContext): void {
  const d = out.detail;
  switch (proc) {
    case 0:
      return;
    case 1: case 2: case 5: case 18: case 19: case 20: // GETATTR SETATTR READLINK FSSTAT FSINFO PATHCONF
      fh3(r, out, ctx);
      return;
    case 3: case 8: case 9: case 10: case 11: case 12: case 13: // LOOKUP CREATE MKDIR SYMLINK MKNOD REMOVE RMDIR
      dirop3(r, out, ctx);
      if (proc === 8) d.createMode = ['UNCHECKED', 'GUARDED', 'EXCLUSIVE'][r.u32()] ?? 'unknown';
      return;
    case 4:
      fh3(r, out, ctx);
      d.access = r.u32();
      return;
    case 6: case 7: case 21: // READ WRITE COMMIT
      fh3(r, out, ctx);
      d.offset = r.u64();
      d.count = r.u32();
      if (proc === 7) d.stable = ['UNSTABLE', 'DATA_SYNC', 'FILE_SYNC'][r.u32()] ?? 'unknown';
      return;
    case 14:
      dirop3(r, out, ctx, 'fromFh', 'from');
      dirop3(r, out, ctx, 'toFh', 'to');
      return;
    case 15:
      fh3(r, out, ctx);
      dirop3(r, out, ctx, 'dirFh', 'name');
      return;
    case 16: case 17:
      fh3(r, out, ctx);
      d.cookie = r.u64();
      return;
    default:
      return;
  }
}

function decodeV2Call(r: XdrReader, proc: number, out: CallOut, ctx: DecodeContext): void {
  const d = out.detail;
  const fh2 = (key = 'fh'): string => {
    const fh = r.fixedHex(32);
    d[key] = fh;
    const p = ctx.fhNames.get(fh);
    if (p !== undefined) d[key === 'fh' ? 'path' : `${key}Path`] = p;
    return fh;
  };
  const dirop = (nameKey = 'name'): void => {
    const fh = fh2(nameKey === 'name' ? 'fh' : `${nameKey}Fh`);
    const name = r.string(255);
    d[nameKey] = name;
    const p = joinPath(ctx.fhNames.get(fh), name);
    if (p !== undefined) d[nameKey === 'name' ? 'path' : `${nameKey}Path`] = p;
  };
  switch (proc) {
    case 1: case 2: case 5: case 17: // GETATTR SETATTR READLINK STATFS
      fh2();
      return;
    case 4: case 9: case 10: case 13: case 14: case 15: // LOOKUP CREATE REMOVE SYMLINK MKDIR RMDIR
      dirop();
      return;
    case 6:
      fh2();
      d.offset = String(r.u32());
      d.count = r.u32();
      return;
    case 8:
      fh2();
      r.u32();
      d.offset = String(r.u32());
      return;
    case 11:
      dirop('from');
      dirop('to');
      return;
    case 12:
      fh2();
      dirop('name');
      return;
    case 16:
      fh2();
      return;
    default:
      return;
  }
}

export const nfs3Decoder: ProgramDecoder = {
  name: 'nfs',
  number: 100003,
  knowsVersion: (v) => v === 2 || v === 3,
  procName: (v, p) => nameOr(v === 2 ? NFS2_PROCS : NFS3_PROCS, p, 'PROC_'),
  decodeCall(r, v, p, out, ctx) {
    if (v === 3) decodeV3Call(r, p, out, ctx);
    else decodeV2Call(r, p, out, ctx);
  },
  decodeReply(r, v, p, out: ReplyOut, call, ctx) {
    if (p === 0) return;
    if (v === 2 && (p === 3 || p === 7)) return; // ROOT, WRITECACHE: void results (RFC 1094)
    const st = r.u32();
    out.statusCode = st;
    out.status = nameOr(v === 2 ? NFS2_STAT : NFS3_STAT, st, v === 2 ? 'NFSERR_' : 'NFS3ERR_');
    if (st !== 0) return;
    // LOOKUP resok names the handle it returns: remember it so later calls show a path.
    const path = call.detail.path;
    if (typeof path !== 'string') return;
    if (v === 3 && p === 3) {
      const fh = r.opaqueHex(64);
      call.detail.resultFh = fh;
      ctx.fhNames.set(fh, path);
    } else if (v === 2 && p === 4) {
      const fh = r.fixedHex(32);
      call.detail.resultFh = fh;
      ctx.fhNames.set(fh, path);
    }
  },
};
