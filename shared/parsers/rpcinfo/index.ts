import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';

/** `data` of 'service' events from rpcinfo: a registration row, a probe result, or an error. */
export interface RpcinfoData {
  readonly source: 'rpcinfo';
  readonly program?: number | undefined;
  readonly version?: number | undefined;
  readonly proto?: string | undefined;
  readonly port?: number | undefined;
  /** Service name from the last column ("nlockmgr", "status"). */
  readonly service?: string | undefined;
  /** "program 100021 version 4 ready and waiting" (rpcinfo -T/-t/-u probe). */
  readonly ready?: boolean | undefined;
  /** The RPC error text ("Program not registered", "Remote system error - Connection refused"). */
  readonly error?: string | undefined;
  /** Host named before the error ("10.231.0.11: RPC: ..."). */
  readonly host?: string | undefined;
  /**
   * The host whose registrations these are, when the artifact says so: a `# rpcinfo -p HOST` / `$ rpcinfo -p
   * HOST` / `==> HOST <==` header line before the table (playbooks print one per queried server). Absent for
   * a bare `rpcinfo -p`, which lists the host that ran it.
   */
  readonly target?: string | undefined;
}

const ROW = /^\s*(\d{5,10})\s+(\d+)\s+(tcp6?|udp6?|local|unix)\s+(\d+)(?:\s+(\S+))?\s*$/;
const READY = /^program (\d+) version (\d+) (ready and waiting|is not available)/;
// rpcinfo(8) (libtirpc clnt_perror/clnt_spcreateerror): "rpcinfo: RPC: Program not registered",
// "rpcinfo: can't contact portmapper: RPC: ...", "HOST: RPC: Remote system error - Connection refused".
const ERR = /^(?:rpcinfo: )?(?:(?:can't contact \S+|(\S+)): )?RPC: (.+)$/;
const HEADER_TAIL = /^==> (\S{1,255}) <==$/;
const HOSTLIKE = /^[A-Za-z0-9_.:[\]-]{1,255}$/;

/**
 * "# rpcinfo -p 10.0.0.5", "$ rpcinfo -T tcp filer 100024", "==> filer <==": the host the next lines are
 * about. A token scan, not a regex, so no line can make it slow.
 */
export function rpcinfoHeaderTarget(text: string): string | undefined {
  if (text.length > 512) return undefined;
  const t = HEADER_TAIL.exec(text.trim());
  if (t) return t[1];
  const words = text.trim().replace(/^[#$>]\s*/, '').split(/\s+/);
  if (words[0] !== 'rpcinfo') return undefined;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      if (w === '-T' || w === '-n' || w === '-a') i++; // options that take a value
      continue;
    }
    if (/^\d+$/.test(w)) return undefined; // a program number before any host: not a host query
    return HOSTLIKE.test(w) ? w : undefined;
  }
  return undefined;
}

export function createRpcinfoParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  const base = { kind: 'service' as const, ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? ('collector' as const) : ('none' as const) };
  let target: string | undefined;
  return {
    line(text, lineNo) {
      const named = rpcinfoHeaderTarget(text);
      if (named !== undefined) {
        target = named;
        return;
      }
      const r = ROW.exec(text);
      if (r) {
        const data: RpcinfoData = { source: 'rpcinfo', program: Number(r[1]), version: Number(r[2]), proto: r[3], port: Number(r[4]), service: r[5], ...(target !== undefined ? { target } : {}) };
        emit({ ...base, line: lineNo, text: `${r[5] ?? r[1]} v${r[2]} ${r[3]} port ${r[4]}`, data: { ...data } });
        return;
      }
      const rd = READY.exec(text.trim());
      if (rd) {
        const ok = rd[3] === 'ready and waiting';
        const data: RpcinfoData = { source: 'rpcinfo', program: Number(rd[1]), version: Number(rd[2]), ready: ok, ...(target !== undefined ? { target } : {}) };
        emit({ ...base, line: lineNo, level: ok ? undefined : 'err', text: text.trim(), data: { ...data } });
        return;
      }
      const em = ERR.exec(text.trim());
      if (em) {
        const data: RpcinfoData = { source: 'rpcinfo', error: em[2], host: em[1] !== undefined && em[1] !== 'rpcinfo' ? em[1] : undefined, target };
        emit({ ...base, line: lineNo, level: 'err', text: text.trim(), data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)) });
      }
      // Headers, prompts and "rc=" lines carry nothing to keep.
    },
    end() {},
  };
}

export const rpcinfoSpec: TextParserSpec = {
  kind: 'rpcinfo',
  detect(head) {
    if (head.some((l) => /^\s*program\s+vers\s+proto\s+port/.test(l))) return 0.95;
    if (head.some((l) => /^rpcinfo: /.test(l) || READY.test(l.trim()))) return 0.7;
    if (head.some((l) => rpcinfoHeaderTarget(l) !== undefined) && head.some((l) => ROW.test(l))) return 0.9;
    return 0;
  },
  create: createRpcinfoParser,
};
