import type { ParsedEvent } from '../model/event';
import type { ArtifactKind, LineParser, ParseContext, ParseOutput, TextParserSpec } from './types';
import { forEachLine, guarded } from './common/lines';
import { dmesgSpec } from './dmesg';
import { straceSpec } from './strace';
import { procStackSpec, procSyscallSpec } from './proc';
import { psSpec } from './ps';
import { procLocksSpec } from './locks';
import { mountstatsSpec } from './mountstats';
import { mountsSpec } from './mounts';
import { rpcinfoSpec } from './rpcinfo';
import { systemctlSpec } from './systemctl';
import { hostInfoSpec } from './hostinfo';
import { perfSpec } from './perf';
import { phpSlowSpec } from './phpslow';
import { rpcTasksSpec } from './rpctasks';

export { decodeTextBytes } from './decode';
export { createDmesgParser, dmesgSpec } from './dmesg';
export type { KernelData, SyslogData } from './dmesg';
export { createStraceParser, splitArgs, straceSpec } from './strace';
export type { StraceSignalData, SyscallData } from './strace';
export { classifyFrames, syscallName, STACK_CLASSES } from './proc';
export type { StackClass, StackClassification, StackData, ProcSyscallData } from './proc';
export { createPsParser } from './ps';
export type { ProcessData } from './ps';
export { createProcLocksParser } from './locks';
export type { LockData } from './locks';
export { mountstatsDelta, MOUNTSTATS_EVENTS, parseOpts } from './mountstats';
export type { MountstatsData, MountstatsOp, MountstatsDelta, OpDelta } from './mountstats';
export type { MountData } from './mounts';
export type { RpcinfoData } from './rpcinfo';
export type { SystemctlData } from './systemctl';
export { bootTimeFromHostInfo } from './hostinfo';
export type { HostInfoData } from './hostinfo';
export type { PerfData, PerfPath } from './perf';
export type { PhpSlowData, PhpFpmLogData, PhpFrame } from './phpslow';
export { queueMeaning } from './rpctasks';
export type { RpcTaskData, RpcQueueMeaning } from './rpctasks';

/**
 * Every text parser, most specific first. detect() scores decide; ties go to the earlier entry, so formats
 * whose lines could also pass for another's (a ps table vs. generic text) are listed after the stricter ones.
 */
export const TEXT_PARSERS: readonly TextParserSpec[] = [
  hostInfoSpec,
  mountstatsSpec,
  systemctlSpec,
  rpcinfoSpec,
  procLocksSpec,
  procSyscallSpec,
  straceSpec,
  phpSlowSpec,
  rpcTasksSpec,
  dmesgSpec,
  procStackSpec,
  mountsSpec,
  perfSpec,
  psSpec,
];

/** How many lines of an artifact the detector looks at. */
export const DETECT_HEAD_LINES = 60;
/** Detectors see at most this much of each line: no detector can be slowed down by one huge line. */
export const DETECT_LINE_CHARS = 4096;

/** Sniff the artifact kind from its first lines; 'text' when nothing fits well enough. */
export function detectTextKind(head: readonly string[]): ArtifactKind {
  let best: ArtifactKind = 'text';
  let bestScore = 0.25;
  const lines = head.slice(0, DETECT_HEAD_LINES).map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l).slice(0, DETECT_LINE_CHARS));
  for (const spec of TEXT_PARSERS) {
    let s = 0;
    try {
      s = spec.detect(lines);
    } catch {
      s = 0;
    }
    if (s > bestScore) {
      best = spec.kind;
      bestScore = s;
    }
  }
  return best;
}

export function specFor(kind: ArtifactKind): TextParserSpec | undefined {
  return TEXT_PARSERS.find((p) => p.kind === kind);
}

/** A streaming parser for `kind`, or undefined when the kind is not a text format we parse. Never throws per line. */
export function createTextParser(
  kind: ArtifactKind, ctx: ParseContext, emit: (e: ParsedEvent) => void,
): LineParser | undefined {
  const spec = specFor(kind);
  if (!spec) return undefined;
  return guarded(spec.create(ctx, emit), emit);
}

/** Parse a whole text at once. Notes become warnings too, so a partial result is visible without reading events. */
export function parseText(kind: ArtifactKind, text: string, ctx: ParseContext = {}): ParseOutput {
  const events: ParsedEvent[] = [];
  const warnings: string[] = [];
  const emit = (e: ParsedEvent): void => {
    events.push(e);
    if (e.kind === 'note') warnings.push(e.text);
  };
  let p: LineParser | undefined;
  try {
    p = createTextParser(kind, ctx, emit);
  } catch (err) {
    warnings.push(`cannot create parser for ${kind}: ${err instanceof Error ? err.message : String(err)}`);
    return { events, warnings };
  }
  if (!p) {
    if (kind !== 'text' && kind !== 'binary') warnings.push(`no text parser for artifact kind '${kind}'`);
    return { events, warnings };
  }
  const parser = p;
  forEachLine(text, (l, n) => parser.line(l, n));
  parser.end();
  return { events, warnings };
}
