import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import type { InputEvent } from '../../shared/findings';
import { parseIso } from '../../shared/model/time';
import { parseText } from '../../shared/parsers';
import type { ArtifactKind } from '../../shared/parsers/types';

export const EVIDENCE = join(__dirname, '..', 'fixtures', 'evidence');

export interface Load {
  readonly host?: string;
  /** Collection instant (ISO) as the runner would record it. */
  readonly at?: string;
  readonly bootTime?: string;
  /** pid for artifacts that do not name it (a headerless /proc/PID/stack, /proc/PID/syscall). */
  readonly pid?: number;
  /** Only these lines of the file (1-based, inclusive): one command's output out of a multi-command log. */
  readonly lines?: readonly [number, number];
}

/** Parse a text artifact with the project's parsers, as ingest would, tagging host/artifact. */
export function text(kind: ArtifactKind, rel: string, o: Load = {}): InputEvent[] {
  const all = readFileSync(join(EVIDENCE, rel), 'utf8');
  const t = o.lines ? all.split('\n').slice(o.lines[0] - 1, o.lines[1]).join('\n') + '\n' : all;
  const at = o.at ? parseIso(o.at) : undefined;
  const boot = o.bootTime ? parseIso(o.bootTime) : undefined;
  const { events } = parseText(kind, t, { host: o.host, collectedAtNs: at, bootTimeNs: boot });
  return events.map((e) => ({ ...e, host: o.host, artifactKind: kind, artifact: rel, ref: { artifact: rel, line: e.line }, ...(o.pid !== undefined && e.pid === undefined ? { pid: o.pid } : {}) }));
}

/** Decode a capture with the project's decoder. */
export function capture(rel: string, o: Load & { readonly shiftNs?: bigint } = {}): InputEvent[] {
  const { events } = decodeCaptureBytes(new Uint8Array(readFileSync(join(EVIDENCE, rel))));
  // shiftNs: the same packets as another host's capture would stamp them (its clock a little off).
  const shift = (t: bigint | undefined): bigint | undefined => (t !== undefined && o.shiftNs !== undefined ? t + o.shiftNs : t);
  return events.map((e) => {
    const replyTs = typeof e.data.replyTs === 'string' && o.shiftNs !== undefined ? String(BigInt(e.data.replyTs) + o.shiftNs) : e.data.replyTs;
    return { ...e, ts: shift(e.ts), data: { ...e.data, ...(replyTs !== undefined ? { replyTs } : {}) }, host: o.host, artifactKind: 'pcap', artifact: rel, ref: { artifact: rel, frame: e.line } };
  });
}
