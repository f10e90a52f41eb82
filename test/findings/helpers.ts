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
}

/** Parse a text artifact with the project's parsers, as ingest would, tagging host/artifact. */
export function text(kind: ArtifactKind, rel: string, o: Load = {}): InputEvent[] {
  const t = readFileSync(join(EVIDENCE, rel), 'utf8');
  const at = o.at ? parseIso(o.at) : undefined;
  const boot = o.bootTime ? parseIso(o.bootTime) : undefined;
  const { events } = parseText(kind, t, { host: o.host, collectedAtNs: at, bootTimeNs: boot });
  return events.map((e) => ({ ...e, host: o.host, artifactKind: kind, artifact: rel, ref: { artifact: rel, line: e.line }, ...(o.pid !== undefined && e.pid === undefined ? { pid: o.pid } : {}) }));
}

/** Decode a capture with the project's decoder. */
export function capture(rel: string, o: Load = {}): InputEvent[] {
  const { events } = decodeCaptureBytes(new Uint8Array(readFileSync(join(EVIDENCE, rel))));
  return events.map((e) => ({ ...e, host: o.host, artifactKind: 'pcap', artifact: rel, ref: { artifact: rel, frame: e.line } }));
}
