/** MOUNT v1/v2/v3 (RFC 1094 appendix A, RFC 1813 appendix I): dirpath in, root file handle and status out. */
import { MOUNTSTAT3, MOUNT_PROCS, nameOr } from '../names';
import type { ProgramDecoder } from './types';

export const mountDecoder: ProgramDecoder = {
  name: 'mount',
  number: 100005,
  knowsVersion: (v) => v >= 1 && v <= 3,
  procName: (_v, p) => nameOr(MOUNT_PROCS, p, 'PROC_'),
  decodeCall(r, _v, p, out) {
    if (p === 1 || p === 3 || p === 7) out.detail.dirpath = r.string(1024);
  },
  decodeReply(r, v, p, out, call, ctx) {
    if (p !== 1) return; // only MNT returns a status (fhstatus / mountres3)
    const st = r.u32();
    out.statusCode = st;
    // v1/v2 fhstatus carries a UNIX errno; v3 mountstat3 uses the same numbers with MNT3 names.
    out.status = v === 3 ? nameOr(MOUNTSTAT3, st, 'MNT3ERR_') : st === 0 ? 'MNT_OK' : nameOr(MOUNTSTAT3, st, 'MNT3ERR_').replace('MNT3', 'MNT');
    if (st !== 0) return;
    const fh = v === 3 ? r.opaqueHex(64) : r.fixedHex(32);
    call.detail.fh = fh;
    const dir = call.detail.dirpath;
    if (typeof dir === 'string') ctx.fhNames.set(fh, dir);
  },
};
