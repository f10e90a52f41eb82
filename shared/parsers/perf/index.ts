import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';
import { CallTree, chainLineStyle, MAX_NODES } from './tree';
import type { PerfPath } from './tree';

export type { PerfPath } from './tree';

/**
 * `data` of 'profile' events: one perf report / perf top entry (a row of the histogram) with the call graph
 * printed under it. perf samples tasks on CPU only: time asleep in rpc_wait_bit_killable is never attributed.
 */
export interface PerfData {
  /** Command column (task comm); undefined when the report was not sorted by comm. */
  readonly comm?: string | undefined;
  /** Shared Object column: "[kernel.kallsyms]", "libc.so.6", "[unknown]". */
  readonly dso?: string | undefined;
  /** Symbol without its "[k] " / "[.] " marker; undefined for a call graph printed without its entry row. */
  readonly symbol?: string | undefined;
  /** "k" kernel, "." user space, "g" guest kernel, "u" guest user, "H" hypervisor (perf's sort__sym marker). */
  readonly space?: string | undefined;
  /** Children column (samples in this symbol and its callees), with `--children`. */
  readonly childrenPct?: number | undefined;
  /** Self column, or Overhead when the report has only one percentage. */
  readonly selfPct?: number | undefined;
  /** Heaviest call chain printed under the entry, top first (= paths[0].chain). Empty when none was printed. */
  readonly chain: readonly string[];
  /** Every root-to-leaf chain in print order (at most MAX_PATHS). */
  readonly paths: readonly PerfPath[];
  /** Sample event from the "# Samples: 3K of event 'cycles'" header. */
  readonly event?: string | undefined;
}

// Column names of the "# Children      Self  Command  Shared Object  Symbol" header (perf's sort keys).
const HEADER = /^#\s+(?:Children|Overhead|Self)\b.*\b(?:Command|Shared Object|Symbol)\b/;
const SAMPLES = /^#\s+Samples:\s+\S+\s+of event '([^']{1,128})'/;
// An entry row: optional fold sign, one or two percentages, optional sample count, columns, "[k] symbol".
// Matched in two linear steps (percentages, then the symbol marker) rather than one pattern with a lazy middle.
// The blanks after the fold sign belong to the sign: "\s*[-+]?\s*" would try every split of a long run of blanks.
const ENTRY_PCTS = /^\s*(?:[-+]\s*)?(\d{1,3}\.\d+)%\s+(?:(\d{1,3}\.\d+)%\s+)?/;
const ENTRY_SYM = /\s\[([kgu.H])\] +(\S[\s\S]*)$/;
const MAX_ENTRY_LINE = 4096;

interface EntryMatch {
  readonly p1: string;
  readonly p2: string | undefined;
  readonly middle: string;
  readonly space: string;
  readonly symbol: string;
}

function matchEntry(text: string): EntryMatch | undefined {
  if (text.length > MAX_ENTRY_LINE) return undefined;
  const pm = ENTRY_PCTS.exec(text);
  if (!pm) return undefined;
  const rest = text.slice(pm[0].length - 1); // keep one blank so "[k]" right after the percentages still matches
  const sm = ENTRY_SYM.exec(rest);
  if (!sm) return undefined;
  return { p1: pm[1], p2: pm[2], middle: rest.slice(0, sm.index).trim(), space: sm[1], symbol: sm[2].trim() };
}

interface Columns {
  readonly children: boolean;
  readonly samples: boolean;
  readonly comm: boolean;
  readonly dso: boolean;
}

interface Entry {
  readonly line: number;
  endLine: number;
  readonly data: Omit<PerfData, 'chain' | 'paths'>;
  tree?: CallTree | undefined;
}

function fmtPct(v: number | undefined): string {
  return v === undefined ? '' : `${v.toFixed(2)}%`;
}

/**
 * `perf report --stdio` (graph call chains, with or without `--children`) and perf TUI / `perf top` text (fold
 * signs). One 'profile' event per histogram entry, carrying the call graph printed under it. A call graph printed
 * without its entry row (pasted alone) becomes an entry without symbol.
 */
export function createPerfParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let cols: Columns | undefined;
  let event: string | undefined;
  let cur: Entry | undefined;
  let skipped = 0;
  let firstSkipped: number | undefined;
  let dropped = 0;

  function flush(): void {
    if (!cur) return;
    const e = cur;
    cur = undefined;
    const paths = e.tree ? e.tree.paths() : [];
    if (e.tree) dropped += e.tree.dropped;
    const chain = paths[0]?.chain ?? [];
    const data: PerfData = { ...e.data, chain, paths, event };
    const who = [data.comm, data.symbol ?? (chain.length > 0 ? `(call graph) ${chain[0]}` : undefined)].filter((x) => x !== undefined).join(' ');
    const pct = data.childrenPct !== undefined ? `${fmtPct(data.childrenPct)} children ${fmtPct(data.selfPct)} self` : fmtPct(data.selfPct ?? paths[0]?.pct);
    const leaf = chain.length > 1 ? ` -> ${chain[chain.length - 1]}` : '';
    emit({
      kind: 'profile', ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? 'collector' : 'none',
      line: e.line, endLine: e.endLine !== e.line ? e.endLine : undefined,
      text: `${pct} ${who}${leaf}`.replace(/\s+/g, ' ').trim().slice(0, 300),
      data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
    });
  }

  function entryFrom(m: EntryMatch, lineNo: number): Entry {
    const p1 = Number(m.p1);
    const p2 = m.p2 !== undefined ? Number(m.p2) : undefined;
    // Two percentages are Children then Self (perf --children); one is Overhead (= self) unless the header says Children.
    const childrenPct = p2 !== undefined ? p1 : cols?.children === true ? p1 : undefined;
    const selfPct = p2 !== undefined ? p2 : cols?.children === true ? undefined : p1;
    let toks = m.middle.split(/\s+/).filter((t) => t !== '');
    if (cols?.samples === true && toks.length > 0 && /^\d+$/.test(toks[0])) toks = toks.slice(1);
    let comm: string | undefined;
    let dso: string | undefined;
    if (cols !== undefined && !cols.dso) comm = toks.length > 0 ? toks.join(' ') : undefined;
    else if (cols !== undefined && !cols.comm) dso = toks.length > 0 ? toks.join(' ') : undefined;
    else if (toks.length === 1) dso = toks[0];
    else if (toks.length > 1) {
      // comm may contain blanks ("Web Content"); a DSO path practically never does.
      dso = toks[toks.length - 1];
      comm = toks.slice(0, -1).join(' ');
    }
    return { line: lineNo, endLine: lineNo, data: { comm, dso, symbol: m.symbol, space: m.space, childrenPct, selfPct } };
  }

  return {
    line(raw, lineNo) {
      const text = raw.trimEnd();
      if (text === '') return; // blank lines separate entries in both layouts but also appear inside graphs
      if (text.startsWith('#')) {
        flush();
        if (HEADER.test(text)) {
          const names = text.slice(1).trim().split(/\s{2,}/);
          cols = {
            children: names.includes('Children'), samples: names.includes('Samples') || names.includes('Period'),
            comm: names.includes('Command'), dso: names.includes('Shared Object'),
          };
        }
        const sm = SAMPLES.exec(text);
        if (sm) event = sm[1];
        return;
      }
      const em = matchEntry(text);
      if (em) {
        flush();
        cur = entryFrom(em, lineNo);
        return;
      }
      const style = chainLineStyle(text);
      if (cur && (cur.tree !== undefined || style !== undefined)) {
        cur.tree ??= new CallTree(style ?? 'fold');
        if (cur.tree.add(text)) {
          cur.endLine = lineNo;
          return;
        }
      }
      if (!cur && style === 'fold' && /^[-+] /.test(text)) {
        // A call graph pasted without its entry row (perf top -g output copied from the TUI): its root is the
        // first fold line.
        cur = { line: lineNo, endLine: lineNo, data: {}, tree: new CallTree('fold') };
        cur.tree?.add(text);
        return;
      }
      flush();
      skipped++;
      firstSkipped ??= lineNo;
    },
    end() {
      flush();
      if (dropped > 0) emit(noteEvent(undefined, `${dropped} call-graph line(s) beyond ${MAX_NODES} nodes or too deep; dropped`, { dropped }));
      if (skipped > 0) emit(noteEvent(firstSkipped, `${skipped} line(s) were not perf report rows or call-graph lines (first at line ${firstSkipped}); skipped`, { skipped }));
    },
  };
}

export const perfSpec: TextParserSpec = {
  kind: 'perf',
  detect(head) {
    let n = 0;
    let rows = 0;
    let chain = 0;
    for (const l of head) {
      if (l.trim() === '') continue;
      if (HEADER.test(l)) return 0.95;
      n++;
      if (matchEntry(l)) rows++;
      else if (chainLineStyle(l) !== undefined && /[A-Za-z_]/.test(l)) chain++;
    }
    if (n === 0) return 0;
    if (rows > 0) return Math.min(0.9, 0.45 + (rows + chain) / n);
    // Fold lines alone ("- 89.34% svc_process"): weaker, a Markdown list could look similar.
    return chain / n > 0.6 ? 0.5 : 0;
  },
  create: createPerfParser,
};
