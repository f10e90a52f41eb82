import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';
import type { Arch } from './syscalls';
import { fcntlCmd, flockOp, syscallName } from './syscalls';
import type { ProcSyscallData } from './types';

// /proc/PID/syscall (fs/proc/base.c proc_pid_syscall): "running", or "%d 0x%llx x6 0x%llx 0x%llx" (nr, args, sp, pc);
// nr -1 when blocked outside a syscall (then only sp and pc follow).
const LINE = /^(-?\d{1,4})((?: 0x[0-9a-fA-F]{1,16}){2,8})\s*$/;
const PID_HDR = /\/proc\/(\d+)\/(?:task\/\d+\/)?syscall\b|^\s*(?:PID:?\s*(\d+)\b|-{2,}\s*(\d+)\s*-{2,}\s*$)/;

function decode(nr: number, args: readonly string[], arch: Arch): string | undefined {
  const name = syscallName(nr, arch);
  if (!name) return undefined;
  const n = (i: number): number => Number.parseInt(args[i] ?? '0', 16);
  if (name === 'flock') return `flock(${n(0)}, ${flockOp(n(1))})`;
  if (name === 'fcntl') return `fcntl(${n(0)}, ${fcntlCmd(n(1)) ?? n(1)}, ${args[2]})`;
  return `${name}(${args.slice(0, 3).join(', ')}, ...)`;
}

export function createProcSyscallParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let pid: number | undefined;
  let skipped = 0;
  let firstSkipped: number | undefined;
  return {
    line(text, lineNo) {
      const t = text.trim();
      if (t === '') return;
      const hm = PID_HDR.exec(t);
      if (hm) {
        // A new header: the lines after it are that task's, even when its pid is no pid. Pids are at most 10
        // digits; a longer digit run must not become an unsafe JS number (found by test/fuzz).
        const digits = hm[1] ?? hm[2] ?? hm[3];
        pid = digits !== undefined && digits.length <= 10 ? Number(digits) : undefined;
        return;
      }
      const base = { kind: 'process' as const, ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? ('collector' as const) : ('none' as const), line: lineNo, pid };
      if (t === 'running') {
        const data: ProcSyscallData = { running: true };
        emit({ ...base, text: `${pid !== undefined ? `pid ${pid}` : 'task'}: running (on CPU, not in a syscall)`, data: { ...data } });
        return;
      }
      const m = LINE.exec(t);
      if (!m) {
        skipped++;
        firstSkipped ??= lineNo;
        return;
      }
      const nr = Number(m[1]);
      const regs = m[2].trim().split(' ');
      let data: ProcSyscallData;
      if (nr < 0) {
        data = { nr, sp: regs[0], pc: regs[1] };
      } else {
        const args = regs.slice(0, 6);
        const x = syscallName(nr, 'x86_64');
        const a = syscallName(nr, 'arm64');
        data = {
          nr, args, sp: regs[6], pc: regs[7], names: { x86_64: x, arm64: a },
          decoded: decode(nr, args, 'x86_64'), decodedArm64: decode(nr, args, 'arm64'),
        };
      }
      const who = pid !== undefined ? `pid ${pid}` : 'task';
      const summary = nr < 0 ? `${who}: blocked outside a syscall` : `${who}: in syscall ${nr}${data.decoded ? ` = ${data.decoded} on x86_64` : ''}`;
      emit({ ...base, text: summary, data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)) });
    },
    end() {
      if (skipped > 0) emit(noteEvent(firstSkipped, `${skipped} line(s) were not /proc/PID/syscall output (first at line ${firstSkipped}); skipped`, { skipped }));
    },
  };
}

export const procSyscallSpec: TextParserSpec = {
  kind: 'proc-syscall',
  detect(head) {
    const lines = head.filter((l) => l.trim() !== '');
    if (lines.length === 0) return 0;
    const hit = lines.filter((l) => LINE.test(l.trim()) && / 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x/.test(l)).length;
    return hit === 0 ? 0 : Math.min(1, 0.5 + hit / lines.length / 2);
  },
  create: createProcSyscallParser,
};
