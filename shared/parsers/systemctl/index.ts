import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';

/** `data` of 'service' events from `systemctl status UNIT`. */
export interface SystemctlData {
  readonly source: 'systemctl';
  readonly unit?: string | undefined;
  readonly description?: string | undefined;
  /** "loaded", "not-found", "masked"... */
  readonly load?: string | undefined;
  /** Unit file state from "Loaded: loaded (/path; enabled; preset: enabled)". */
  readonly enabled?: string | undefined;
  readonly unitFile?: string | undefined;
  /** "active", "inactive", "failed", "activating"...; 'unknown' when systemd could not be asked. */
  readonly state: string;
  /** The parenthesised sub-state ("running", "dead", "exited"). */
  readonly substate?: string | undefined;
  /** Text after "since" on the Active line. */
  readonly since?: string | undefined;
  readonly mainPid?: number | undefined;
  /** Why the state is unknown ("System has not been booted with systemd as init system (PID 1). Can't operate."). */
  readonly error?: string | undefined;
}

// systemctl status header: "● rpc-statd.service - NFS status monitor for NFSv2/3 locking." (bullet varies by state)
const HEAD = /^(?:[●○×✗*↻\s]\s*)?(\S+\.(?:service|socket|target|mount|timer|path|scope|slice|automount|swap|device)) - (.*)$/;
const LOADED = /^\s*Loaded: (\S+)(?: \(([^;)]*)(?:; ([^;)]*))?(?:; [^)]*)?\))?/;
const ACTIVE = /^\s*Active: (\S+)(?: \(([^)]*)\))?(?: since (.*?))?(?:;.*)?$/;
const MAINPID = /^\s*Main PID: (\d+)/;
const NOT_SYSTEMD = /System has not been booted with systemd|Failed to connect to bus|Unit \S+ could not be found/;

export function createSystemctlParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let cur: { unit?: string; description?: string; load?: string; enabled?: string; unitFile?: string; state?: string; substate?: string; since?: string; mainPid?: number; line: number; error?: string } | undefined;
  function flush(): void {
    const c = cur;
    cur = undefined;
    if (!c) return;
    const data: SystemctlData = {
      source: 'systemctl', unit: c.unit, description: c.description, load: c.load, enabled: c.enabled, unitFile: c.unitFile,
      state: c.state ?? 'unknown', substate: c.substate, since: c.since, mainPid: c.mainPid, error: c.error,
    };
    emit({
      kind: 'service', ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? 'collector' : 'none', line: c.line, pid: c.mainPid,
      level: data.state === 'failed' ? 'err' : data.state === 'unknown' ? 'warn' : undefined,
      text: `${c.unit ?? 'unit'}: ${data.state}${c.substate ? ` (${c.substate})` : ''}${c.error ? ` — ${c.error}` : ''}`,
      data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
    });
  }
  return {
    line(text, lineNo) {
      const h = HEAD.exec(text);
      if (h) {
        flush();
        cur = { unit: h[1], description: h[2], line: lineNo };
        return;
      }
      if (NOT_SYSTEMD.test(text)) {
        if (cur?.state !== undefined) flush(); // a new failure after a complete block
        // No answer from systemd says nothing about the service: 'unknown', never 'dead'.
        cur ??= { line: lineNo };
        cur.error ??= text.trim();
        return;
      }
      if (!cur) return;
      const l = LOADED.exec(text);
      if (l) {
        cur.load = l[1];
        cur.unitFile = l[2];
        cur.enabled = l[3];
        return;
      }
      const a = ACTIVE.exec(text);
      if (a) {
        cur.state = a[1];
        cur.substate = a[2];
        cur.since = a[3];
        return;
      }
      const m = MAINPID.exec(text);
      if (m) cur.mainPid = Number(m[1]);
    },
    end() {
      flush();
    },
  };
}

export const systemctlSpec: TextParserSpec = {
  kind: 'systemctl',
  detect(head) {
    if (head.some((l) => HEAD.test(l)) && head.some((l) => /^\s*(Loaded|Active): /.test(l))) return 0.95;
    if (head.length <= 4 && head.some((l) => /System has not been booted with systemd/.test(l))) return 0.8;
    return 0;
  },
  create: createSystemctlParser,
};
