/** Programs we name but do not decode (NFS_ACL) and programs we do not know at all: procedure names only. */
import { NFSACL_PROCS, nameOr } from '../names';
import type { RpcProgramName } from '../types';
import type { ProgramDecoder } from './types';

export const nfsaclDecoder: ProgramDecoder = {
  name: '100227',
  number: 100227,
  knowsVersion: (v) => v === 2 || v === 3,
  procName: (_v, p) => nameOr(NFSACL_PROCS, p, 'PROC_'),
  decodeCall() {},
  decodeReply() {},
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
