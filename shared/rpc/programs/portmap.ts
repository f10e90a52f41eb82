/** PORTMAP v2 / RPCBIND v3-v4 (RFC 1833): which program/version was looked up and what came back. */
import { PORTMAP_V2_PROCS, RPCBIND_V3_PROCS, RPCBIND_V4_PROCS, nameOr } from '../names';
import type { ProgramDecoder } from './types';

const PROTO: Readonly<Record<number, string>> = { 6: 'tcp', 17: 'udp' };

export const portmapDecoder: ProgramDecoder = {
  name: 'portmap',
  number: 100000,
  knowsVersion: (v) => v >= 2 && v <= 4,
  procName: (v, p) => nameOr(v === 2 ? PORTMAP_V2_PROCS : v === 3 ? RPCBIND_V3_PROCS : RPCBIND_V4_PROCS, p, 'PROC_'),
  decodeCall(r, v, p, out) {
    const d = out.detail;
    if (v === 2) {
      if (p >= 1 && p <= 3) {
        d.prog = r.u32();
        d.vers = r.u32();
        const prot = r.u32();
        d.prot = PROTO[prot] ?? String(prot);
        d.port = r.u32();
      } else if (p === 5) {
        d.prog = r.u32();
        d.vers = r.u32();
        d.proc = r.u32();
      }
      return;
    }
    // rpcb: r_prog, r_vers, r_netid, r_addr, r_owner (SET, UNSET, GETADDR, GETVERSADDR, GETADDRLIST)
    if ((p >= 1 && p <= 3) || p === 9 || p === 11) {
      d.prog = r.u32();
      d.vers = r.u32();
      d.netid = r.string(64);
      d.addr = r.string(128);
      d.owner = r.string(128);
    } else if (p === 5 || p === 10) {
      d.prog = r.u32();
      d.vers = r.u32();
      d.proc = r.u32();
    }
  },
  decodeReply(r, v, p, out, call) {
    if (v === 2) {
      if (p === 3) call.detail.result = r.u32();
      else if (p === 1 || p === 2) call.detail.result = r.bool();
      return;
    }
    if (p === 3 || p === 9) call.detail.result = r.string(128);
    else if (p === 1 || p === 2) call.detail.result = r.bool();
    void out;
  },
};
