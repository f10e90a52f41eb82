import { eventRow } from '../store/store';
import type { Store, EventRow, HostRow, StepRow, ArtifactRow, FindingRow, AnnotationRow } from '../store/store';
import { formatDuration, toIso } from '../../shared/model/time';
import { correctedTime } from '../timeline/correct';

/**
 * The report a person pastes into a postmortem: hosts with clock offsets, every command exactly as run with
 * exit status, duration and artifact hash, findings with their evidence, the events that matter, annotations.
 */
export interface ReportModel {
  readonly caseName: string;
  readonly caseTitle: string;
  readonly generatedNs: bigint;
  readonly hosts: readonly HostRow[];
  readonly steps: readonly StepRow[];
  readonly artifacts: readonly ArtifactRow[];
  readonly findings: readonly FindingRow[];
  readonly annotations: readonly AnnotationRow[];
  readonly keyEvents: readonly EventRow[];
  readonly annotatedEvents: ReadonlyMap<number, EventRow>;
  /** Facts from each host's latest host-info artifact (uname -a). */
  readonly hostFacts: ReadonlyMap<number, { readonly kernel?: string; readonly uname?: string }>;
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];
const KEY_LEVELS = new Set(['emerg', 'alert', 'crit', 'err', 'warn']);

export function buildReportModel(store: Store, caseId: number): ReportModel {
  const c = store.getCase(caseId);
  if (!c) throw new Error(`case ${caseId} not found`);
  const annotations = store.listAnnotations(caseId);
  const annotatedIds = annotations.map((a) => a.eventId).filter((x): x is number => x !== undefined);
  const annotatedEvents = new Map(store.listEvents(caseId, { ids: annotatedIds, limit: 5000 }).map((e) => [e.id, e]));
  // Events that matter: kernel warnings and errors, RPC error replies, unfinished syscalls, D-state processes.
  const keyEvents = store.db
    .prepare(
      `SELECT * FROM events WHERE case_id = ? AND (
         level IN ('emerg','alert','crit','err','warn')
         OR (kind = 'rpc' AND json_extract(data_json, '$.status') IS NOT NULL AND json_extract(data_json, '$.status') NOT IN ('NFS3_OK','NFS4_OK','NFS_OK','NLM4_GRANTED','LCK_GRANTED','SUCCESS','OK'))
         OR (kind = 'syscall' AND json_extract(data_json, '$.unfinished') = 1)
         OR (kind = 'process' AND json_extract(data_json, '$.state') LIKE 'D%')
       ) ORDER BY ts_ns LIMIT 200`,
    )
    .safeIntegers(true)
    .all(caseId);
  const hostFacts = new Map<number, { kernel?: string; uname?: string }>();
  for (const r of store.db.prepare("SELECT host_id, data_json FROM events WHERE case_id = ? AND kind = 'host' AND host_id IS NOT NULL ORDER BY id").all(caseId) as { host_id: number; data_json: string }[]) {
    const d = JSON.parse(r.data_json) as { kernel?: string; uname?: string };
    hostFacts.set(r.host_id, { kernel: d.kernel, uname: d.uname });
  }
  return {
    hostFacts,
    caseName: c.name,
    caseTitle: c.title,
    generatedNs: BigInt(Date.now()) * 1_000_000n,
    hosts: store.listHosts(caseId),
    steps: store.listSteps(caseId),
    artifacts: store.listArtifacts(caseId),
    findings: [...store.listFindings(caseId)].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity)),
    annotations,
    keyEvents: (keyEvents as Record<string, unknown>[]).map(eventRow),
    annotatedEvents,
  };
}

/** Markdown-escape text that came from a host or a capture: it is data, never markup. */
export function mdText(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/([\\`*_{}[\]()#+!|<>~])/g, '\\$1');
}

/** A code span that cannot be broken out of, whatever the command contains. */
export function mdCode(s: string): string {
  const clean = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\n/g, '⏎');
  const runs = clean.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  return `${fence} ${clean} ${fence}`;
}

function hostName(hosts: readonly HostRow[], id: number | undefined): string {
  if (id === undefined) return '(imported)';
  return hosts.find((h) => h.id === id)?.name ?? `host ${id}`;
}

function when(e: EventRow, hosts: readonly HostRow[]): string {
  const host = e.hostId !== undefined ? hosts.find((h) => h.id === e.hostId) : undefined;
  const t = correctedTime(e, host);
  return t === undefined ? '(no time)' : toIso(t);
}

export function renderMarkdown(m: ReportModel): string {
  const out: string[] = [];
  out.push(`# Case ${mdText(m.caseName)}${m.caseTitle && m.caseTitle !== m.caseName ? `: ${mdText(m.caseTitle)}` : ''}`);
  out.push('');
  out.push(`Generated ${toIso(m.generatedNs, 3)} by Casefile. Times are UTC, corrected by each host's measured clock offset.`);
  out.push('');

  out.push('## Hosts');
  out.push('');
  if (m.hosts.length === 0) out.push('No hosts (evidence was imported).');
  else {
    out.push('| host | destination | kernel | host key | clock offset | boot time |');
    out.push('|---|---|---|---|---|---|');
    for (const h of m.hosts) {
      const off = h.clockOffsetNs === undefined ? 'not measured' : `${formatDuration(h.clockOffsetNs + h.clockAdjustNs)} ± ${formatDuration(h.clockUncertaintyNs ?? 0n)}${h.clockAdjustNs !== 0n ? ` (incl. manual ${formatDuration(h.clockAdjustNs)})` : ''}`;
      out.push(
        `| ${mdText(h.name)} | ${mdText(h.destination)}${h.jumpChain.length ? ` via ${h.jumpChain.map(mdText).join(' → ')}` : ''} | ${mdText(m.hostFacts.get(h.id)?.kernel ?? '—')} | ${h.hostKeyFingerprint ? `${mdText(h.hostKeyType ?? '')} ${mdText(h.hostKeyFingerprint)}` : '—'} | ${off} | ${h.bootTimeNs !== undefined ? toIso(h.bootTimeNs, 3) : '—'} |`,
      );
    }
  }
  out.push('');

  out.push('## Findings');
  out.push('');
  if (m.findings.length === 0) out.push('No finding rule fired on the evidence collected.');
  for (const f of m.findings) {
    out.push(`### [${f.severity}] ${mdText(f.title)} (\`${f.rule}\`)`);
    out.push('');
    out.push(f.explanation); // written by our rules, not by hosts
    out.push('');
    if (f.evidence.length) {
      out.push('Evidence:');
      for (const ev of f.evidence.slice(0, 20)) out.push(`- ${mdText(evidenceText(ev))}`);
      out.push('');
    }
    if (f.next) {
      out.push(`Next: ${f.next}`);
      out.push('');
    }
  }

  out.push('## Commands run');
  out.push('');
  if (m.steps.length === 0) out.push('No commands were run in this case.');
  for (const s of m.steps) {
    const arts = m.artifacts.filter((a) => a.stepId === s.id);
    const dur = s.startedNs !== undefined && s.endedNs !== undefined ? formatDuration(s.endedNs - s.startedNs) : '—';
    out.push(`- **${mdText(s.title || s.stepKey)}** on ${mdText(hostName(m.hosts, s.hostId))}${s.isRestore ? ' (restore)' : ''}: ${s.status}${s.exitCode !== undefined ? `, exit ${s.exitCode}` : ''}${s.signal ? `, signal ${mdText(s.signal)}` : ''}, ${dur}${s.startedNs !== undefined ? `, started ${toIso(s.startedNs, 3)}` : ''}`);
    out.push(`  - command: ${mdCode(s.command)}`);
    for (const a of arts) out.push(`  - ${a.stream}: ${a.size} bytes, sha256 \`${a.sha256 ?? 'incomplete'}\`, ${a.kind}, ${a.eventCount} events${a.parseStatus === 'partial' ? ' (partial parse)' : ''}`);
    if (s.stuck) out.push(`  - stuck: ${mdText(JSON.stringify(s.stuck))}`);
    if (s.error) out.push(`  - error: ${mdText(s.error)}`);
  }
  out.push('');

  const imported = m.artifacts.filter((a) => a.source === 'import');
  if (imported.length) {
    out.push('## Imported evidence');
    out.push('');
    for (const a of imported) out.push(`- ${mdText(a.name)}: ${a.kind}, ${a.size} bytes, sha256 \`${a.sha256 ?? 'incomplete'}\`, ${a.eventCount} events${a.parseStatus === 'partial' ? ' (partial parse)' : ''}`);
    out.push('');
  }

  out.push('## Annotations');
  out.push('');
  if (m.annotations.length === 0) out.push('No annotations.');
  for (const a of m.annotations) {
    const ev = a.eventId !== undefined ? m.annotatedEvents.get(a.eventId) : undefined;
    const at = ev ? when(ev, m.hosts) : a.startNs !== undefined ? toIso(a.startNs) : '';
    const marker = a.marker ? ` [${a.marker}]` : '';
    out.push(`- ${a.starred ? '★ ' : ''}${at}${marker}${ev ? ` on ${mdText(hostName(m.hosts, ev.hostId))}: ${mdText(ev.text.slice(0, 200))}` : ''}`);
    for (const l of a.body.split('\n')) out.push(`  > ${mdText(l)}`);
  }
  out.push('');

  out.push('## Events that matter');
  out.push('');
  if (m.keyEvents.length === 0) out.push('No warnings, errors, error replies, unfinished syscalls or D-state processes.');
  else {
    out.push('| time (UTC) | host | kind | event |');
    out.push('|---|---|---|---|');
    for (const e of m.keyEvents) out.push(`| ${when(e, m.hosts)} | ${mdText(hostName(m.hosts, e.hostId))} | ${e.kind}${e.level && KEY_LEVELS.has(e.level) ? ` ${e.level}` : ''} | ${mdText(e.text.slice(0, 300))} |`);
  }
  out.push('');
  return out.join('\n');
}

function evidenceText(ev: unknown): string {
  if (typeof ev === 'string') return ev;
  if (ev && typeof ev === 'object') {
    const o = ev as Record<string, unknown>;
    const s = o.summary ?? o.text ?? o.line;
    if (typeof s === 'string') return s;
  }
  return JSON.stringify(ev);
}
