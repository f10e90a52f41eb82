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
}

const ROW = /^\s*(\d{5,10})\s+(\d+)\s+(tcp6?|udp6?|local|unix)\s+(\d+)(?:\s+(\S+))?\s*$/;
const READY = /^program (\d+) version (\d+) (ready and waiting|is not available)/;
// rpcinfo(8) (libtirpc clnt_perror/clnt_spcreateerror): "rpcinfo: RPC: Program not registered",
// "rpcinfo: can't contact portmapper: RPC: ...", "HOST: RPC: Remote system error - Connection refused".
const ERR = /^(?:rpcinfo: )?(?:(?:can't contact \S+|(\S+)): )?RPC: (.+)$/;

export function createRpcinfoParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  const base = { kind: 'service' as const, ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? ('collector' as const) : ('none' as const) };
  return {
    line(text, lineNo) {
      const r = ROW.exec(text);
      if (r) {
        const data: RpcinfoData = { source: 'rpcinfo', program: Number(r[1]), version: Number(r[2]), proto: r[3], port: Number(r[4]), service: r[5] };
        emit({ ...base, line: lineNo, text: `${r[5] ?? r[1]} v${r[2]} ${r[3]} port ${r[4]}`, data: { ...data } });
        return;
      }
      const rd = READY.exec(text.trim());
      if (rd) {
        const ok = rd[3] === 'ready and waiting';
        const data: RpcinfoData = { source: 'rpcinfo', program: Number(rd[1]), version: Number(rd[2]), ready: ok };
        emit({ ...base, line: lineNo, level: ok ? undefined : 'err', text: text.trim(), data: { ...data } });
        return;
      }
      const em = ERR.exec(text.trim());
      if (em) {
        const data: RpcinfoData = { source: 'rpcinfo', error: em[2], host: em[1] !== undefined && em[1] !== 'rpcinfo' ? em[1] : undefined };
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
    return 0;
  },
  create: createRpcinfoParser,
};
