/** Programs we name but do not decode (NFS_ACL) and programs we do not know at all: procedure names only. */
import { NFS3_STAT, NFSACL_PROCS, nameOr } from '../names';
import type { RpcProgramName } from '../types';
import type { ProgramDecoder } from './types';

export const nfsaclDecoder: ProgramDecoder = {
  name: '100227',
  number: 100227,
  knowsVersion: (v) => v === 2 || v === 3,
  procName: (_v, p) => nameOr(NFSACL_PROCS, p, 'PROC_'),
  decodeCall() {},
  decodeReply(r, _v, p, out) {
    // Every NFS_ACL result starts with an nfsstat (Linux fs/nfsd/nfs3acl.c, nfs2acl.c).
    if (p === 0) return;
    const st = r.u32();
    out.statusCode = st;
    out.status = nameOr(NFS3_STAT, st, 'NFS3ERR_');
  },
};

export function unknownProgram(program: number): ProgramDecoder {
  return {
    name: String(program) as RpcProgramName,
    number: program,
    knowsVersion: () => true,
    procName: (_v, p) => (p === 0 ? 'NULL' : `PROC_${p}`),
    decodeCall() {},
    decodeReply() {},
  };
}
