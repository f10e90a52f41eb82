import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';

/** `data` of 'lock' events: one /proc/locks row (fs/locks.c lock_get_status()). */
export interface LockData {
  /** Ordinal printed before the colon; a waiter shares its blocker's number. */
  readonly id: number;
  /** "->" row: this task waits for the lock on the row with the same id. */
  readonly waiter: boolean;
  /** POSIX, FLOCK, OFDLCK, LEASE, DELEG, BREAKING, ACCESS, UNKNOWN (as printed). */
  readonly type: string;
  /** ADVISORY, MANDATORY, ACTIVE, BREAKER, UNKNOWN. */
  readonly mode: string;
  /** READ, WRITE, UNLCK, NONE (leases in transition). */
  readonly access: string;
  /** -1 for OFD locks (no owning pid); for an NLM lock on a knfsd server, lockd's pid. */
  readonly ownerPid: number;
  /** Device major:minor in hex as printed ("fe:00", NFS uses anonymous "00:2a"). */
  readonly dev: string;
  readonly major: number;
  readonly minor: number;
  readonly inode: number;
  readonly start: string;
  /** "EOF" or a decimal byte offset. */
  readonly end: string;
  readonly wholeFile: boolean;
}

// "1: POSIX  ADVISORY  WRITE 11760 fe:00:2150053 0 EOF" and "4: -> FLOCK  ADVISORY  WRITE 17392 fe:00:2146369 0 EOF"
// The owner pid is 1-10 digits (-1 for OFD locks): a longer run would become an unsafe JS number (found by test/fuzz).
const ROW = /^\s*(\d+): (-> )?\s*([A-Z]+)\s+([A-Z*]+)\s+([A-Z]+)\s+(-?\d{1,10})\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s+(\d+)\s+(EOF|\d+)\s*$/;

export function createProcLocksParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let skipped = 0;
  let firstSkipped: number | undefined;
  return {
    line(text, lineNo) {
      const m = ROW.exec(text);
      if (!m) {
        if (text.trim() !== '') {
          skipped++;
          firstSkipped ??= lineNo;
        }
        return;
      }
      const data: LockData = {
        id: Number(m[1]), waiter: m[2] !== undefined, type: m[3], mode: m[4], access: m[5], ownerPid: Number(m[6]),
        dev: `${m[7]}:${m[8]}`, major: Number.parseInt(m[7], 16), minor: Number.parseInt(m[8], 16), inode: Number(m[9]),
        start: m[10], end: m[11], wholeFile: m[10] === '0' && m[11] === 'EOF',
      };
      emit({
        kind: 'lock', ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? 'collector' : 'none', line: lineNo,
        pid: data.ownerPid >= 0 ? data.ownerPid : undefined,
        text: `${data.waiter ? 'waiting: ' : ''}${data.type} ${data.access} by ${data.ownerPid} on ${data.dev}:${data.inode} ${data.start}-${data.end}`,
        data: { ...data },
      });
    },
    end() {
      if (skipped > 0) emit(noteEvent(firstSkipped, `${skipped} line(s) were not /proc/locks rows (first at line ${firstSkipped}); skipped`, { skipped }));
    },
  };
}

export const procLocksSpec: TextParserSpec = {
  kind: 'proc-locks',
  detect(head) {
    const lines = head.filter((l) => l.trim() !== '');
    const hit = lines.filter((l) => ROW.test(l)).length;
    return hit === 0 ? 0 : Math.min(1, 0.4 + hit / lines.length);
  },
  create: createProcLocksParser,
};
