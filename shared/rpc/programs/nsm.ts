/** NSM (status monitor, program 100024 v1; XNFS C702 ch. 11, sm_inter.x). */
import { NSM_PROCS, NSM_RES, nameOr } from '../names';
import type { ProgramDecoder } from './types';

export const nsmDecoder: ProgramDecoder = {
  name: 'nsm',
  number: 100024,
  knowsVersion: (v) => v === 1,
  procName: (_v, p) => nameOr(NSM_PROCS, p, 'PROC_'),
  decodeCall(r, _v, p, out) {
    const d = out.detail;
    switch (p) {
      case 1: // SM_STAT: sm_name
        d.mon_name = r.string(1024);
        return;
      case 2: // SM_MON: mon { mon_id { mon_name, my_id { my_name, my_prog, my_vers, my_proc } }, priv[16] }
      case 3: // SM_UNMON: mon_id
        d.mon_name = r.string(1024);
        d.my_name = r.string(1024);
        d.my_prog = r.u32();
        d.my_vers = r.u32();
        d.my_proc = r.u32();
        return;
      case 4: // SM_UNMON_ALL: my_id
        d.my_name = r.string(1024);
        d.my_prog = r.u32();
        d.my_vers = r.u32();
        d.my_proc = r.u32();
        return;
      case 6: // SM_NOTIFY: stat_chge { mon_name, state }
        d.mon_name = r.string(1024);
        d.state = r.i32();
        return;
      default:
        return;
    }
  },
  decodeReply(r, _v, p, out, call) {
    if (p === 1 || p === 2) {
      // sm_stat_res { res_stat, state }
      const st = r.u32();
      out.statusCode = st;
      out.status = nameOr(NSM_RES, st, 'STAT_');
      call.detail.state = r.i32();
    } else if (p === 3 || p === 4) {
      call.detail.state = r.i32(); // sm_stat
    }
  },
};
