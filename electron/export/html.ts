import type { Store, HostRow, EventRow } from '../store/store';
import { formatDuration, toIso } from '../../shared/model/time';
import { correctedTime } from '../timeline/correct';
import type { ReportModel } from './report';

/**
 * A self-contained HTML report: no scripts, no outside requests (the CSP forbids both), a timeline drawn as
 * inline SVG, findings with evidence, starred and annotated events, every command with its hash.
 * Everything that came from a host or a capture is escaped: it is data, never markup.
 */
export function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Our own Markdown (rule explanations): paragraphs, lists, `code`, **bold**. Input is escaped first. */
export function miniMarkdown(md: string): string {
  const blocks = md.trim().split(/\n{2,}/);
  return blocks
    .map((b) => {
      const lines = b.split('\n');
      const inline = (t: string) =>
        esc(t)
          .replace(/`([^`]+)`/g, '<code>$1</code>')
          .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
      if (lines.every((l) => /^\s*[-*] /.test(l))) return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ''))}</li>`).join('')}</ul>`;
      return `<p>${lines.map(inline).join('<br>')}</p>`;
    })
    .join('\n');
}

const LEVEL_COLOR: Record<string, string> = { emerg: '#b00020', alert: '#b00020', crit: '#b00020', err: '#d32f2f', warn: '#f9a825', notice: '#1976d2', info: '#607d8b', debug: '#9e9e9e' };

function timelineSvg(store: Store, caseId: number, hosts: readonly HostRow[], annotations: ReportModel['annotations']): string {
  const rows = store.db
    .prepare('SELECT host_id, kind, ts_ns, level FROM events WHERE case_id = ? AND ts_ns IS NOT NULL ORDER BY ts_ns')
    .safeIntegers(true)
    .iterate(caseId) as IterableIterator<{ host_id: bigint | null; kind: string; ts_ns: bigint; level: string | null }>;
  const byHost = new Map<number | undefined, HostRow | undefined>(hosts.map((h) => [h.id, h]));
  const points: { lane: string; t: bigint; level?: string }[] = [];
  let n = 0;
  for (const r of rows) {
    const hid = r.host_id === null ? undefined : Number(r.host_id);
    const h = byHost.get(hid);
    const t = correctedTime({ tsNs: r.ts_ns, clock: 'host-wall' }, h)!;
    points.push({ lane: `${h?.name ?? 'imported'} / ${r.kind}`, t, level: r.level ?? undefined });
    if (++n >= 200_000) break; // the picture needs density, not every row
  }
  if (points.length === 0) return '<p>No timed events.</p>';
  const lanes = [...new Set(points.map((p) => p.lane))].sort();
  let lo = points[0]!.t;
  let hi = points[0]!.t;
  for (const p of points) {
    if (p.t < lo) lo = p.t;
    if (p.t > hi) hi = p.t;
  }
  const span = hi - lo || 1n;
  const W = 900;
  const L = 220;
  const H = 22;
  const cols = W - L - 10;
  const grid = new Map<string, { count: number; level?: string }>();
  for (const p of points) {
    const x = Number(((p.t - lo) * BigInt(cols - 1)) / span);
    const key = `${lanes.indexOf(p.lane)}:${x}`;
    const g = grid.get(key) ?? { count: 0 };
    g.count++;
    if (p.level && (!g.level || Object.keys(LEVEL_COLOR).indexOf(p.level) < Object.keys(LEVEL_COLOR).indexOf(g.level))) g.level = p.level;
    grid.set(key, g);
  }
  const parts: string[] = [];
  lanes.forEach((lane, i) => {
    parts.push(`<text x="4" y="${i * H + 15}" font-size="11">${esc(lane)}</text>`);
    parts.push(`<line x1="${L}" x2="${W - 10}" y1="${i * H + 11}" y2="${i * H + 11}" stroke="#ddd"/>`);
  });
  for (const [key, g] of grid) {
    const [li, x] = key.split(':').map(Number) as [number, number];
    const h = Math.min(18, 4 + Math.log2(g.count + 1) * 3);
    parts.push(`<rect x="${L + x}" y="${li * H + 11 - h / 2}" width="2" height="${h.toFixed(1)}" fill="${g.level ? LEVEL_COLOR[g.level] : '#455a64'}"/>`);
  }
  for (const a of annotations) {
    if (a.startNs === undefined || a.startNs < lo || a.startNs > hi) continue;
    const x = L + Number(((a.startNs - lo) * BigInt(cols - 1)) / span);
    parts.push(`<line x1="${x}" x2="${x}" y1="0" y2="${lanes.length * H}" stroke="#7b1fa2" stroke-dasharray="3,2"/>`);
  }
  const height = lanes.length * H + 24;
  parts.push(`<text x="${L}" y="${height - 6}" font-size="10">${esc(toIso(lo, 3))}</text>`);
  parts.push(`<text x="${W - 10}" y="${height - 6}" font-size="10" text-anchor="end">${esc(toIso(hi, 3))} (span ${esc(formatDuration(span))})</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" role="img" aria-label="timeline">${parts.join('')}</svg>`;
}

function hostName(hosts: readonly HostRow[], id: number | undefined): string {
  if (id === undefined) return 'imported';
  return hosts.find((h) => h.id === id)?.name ?? `host ${id}`;
}

function evTime(e: EventRow, hosts: readonly HostRow[]): string {
  const t = correctedTime(e, hosts.find((h) => h.id === e.hostId));
  return t === undefined ? '—' : toIso(t);
}

export function renderHtml(m: ReportModel, store: Store): string {
  const caseId = store.findCase(m.caseName)!.id;
  const h: string[] = [];
  h.push('<!doctype html><html lang="en"><head><meta charset="utf-8">');
  h.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  h.push(`<title>Case ${esc(m.caseName)} — Casefile report</title>`);
  h.push(`<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;padding:0 1em;color:#222}
h1,h2,h3{line-height:1.2} table{border-collapse:collapse;width:100%;margin:.5em 0} td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
code,pre{font:12px ui-monospace,monospace;background:#f4f4f4;padding:1px 3px;border-radius:3px;white-space:pre-wrap;word-break:break-all}
.sev-critical,.sev-high{border-left:4px solid #c62828;padding-left:8px}.sev-medium{border-left:4px solid #f9a825;padding-left:8px}.sev-low,.sev-info{border-left:4px solid #90a4ae;padding-left:8px}
.star{color:#f9a825}.marker{font-size:11px;background:#ede7f6;border-radius:3px;padding:0 4px} @media (prefers-color-scheme: dark){body{background:#121212;color:#ddd}code,pre{background:#222}td,th{border-color:#444}}
</style></head><body>`);
  h.push(`<h1>Case ${esc(m.caseName)}${m.caseTitle && m.caseTitle !== m.caseName ? `: ${esc(m.caseTitle)}` : ''}</h1>`);
  h.push(`<p>Generated ${esc(toIso(m.generatedNs, 3))} by Casefile. Times are UTC, corrected by each host's measured clock offset.</p>`);

  h.push('<h2>Timeline</h2>');
  h.push(timelineSvg(store, caseId, m.hosts, m.annotations));

  h.push('<h2>Hosts</h2>');
  if (m.hosts.length === 0) h.push('<p>No hosts (evidence was imported).</p>');
  else {
    h.push('<table><tr><th>host</th><th>destination</th><th>kernel</th><th>host key</th><th>clock offset</th></tr>');
    for (const x of m.hosts) {
      const off = x.clockOffsetNs === undefined ? 'not measured' : `${formatDuration(x.clockOffsetNs + x.clockAdjustNs)} ± ${formatDuration(x.clockUncertaintyNs ?? 0n)}`;
      h.push(`<tr><td>${esc(x.name)}</td><td>${esc(x.destination)}${x.jumpChain.length ? ` via ${esc(x.jumpChain.join(' → '))}` : ''}</td><td>${esc(m.hostFacts.get(x.id)?.uname ?? m.hostFacts.get(x.id)?.kernel ?? '—')}</td><td><code>${esc(x.hostKeyFingerprint ?? '—')}</code></td><td>${esc(off)}</td></tr>`);
    }
    h.push('</table>');
  }

  h.push('<h2>Findings</h2>');
  if (m.findings.length === 0) h.push('<p>No finding rule fired on the evidence collected.</p>');
  for (const f of m.findings) {
    h.push(`<div class="sev-${esc(f.severity)}"><h3>[${esc(f.severity)}] ${esc(f.title)} <code>${esc(f.rule)}</code></h3>${miniMarkdown(f.explanation)}`);
    if (f.evidence.length) h.push(`<ul>${f.evidence.slice(0, 20).map((e) => `<li>${esc(typeof e === 'object' && e && 'summary' in e ? String((e as { summary: unknown }).summary) : JSON.stringify(e))}</li>`).join('')}</ul>`);
    if (f.next) h.push(`<p><strong>Next:</strong> ${esc(f.next)}</p>`);
    h.push('</div>');
  }

  h.push('<h2>Annotations</h2>');
  if (m.annotations.length === 0) h.push('<p>No annotations.</p>');
  else {
    h.push('<table><tr><th></th><th>when</th><th>on</th><th>note</th></tr>');
    for (const a of m.annotations) {
      const ev = a.eventId !== undefined ? m.annotatedEvents.get(a.eventId) : undefined;
      const at = ev ? evTime(ev, m.hosts) : a.startNs !== undefined ? toIso(a.startNs) : '';
      h.push(
        `<tr><td>${a.starred ? '<span class="star">★</span>' : ''}${a.marker ? ` <span class="marker">${esc(a.marker)}</span>` : ''}</td><td>${esc(at)}</td><td>${ev ? `${esc(hostName(m.hosts, ev.hostId))}: <code>${esc(ev.text.slice(0, 300))}</code>` : esc(a.target)}</td><td>${miniMarkdown(a.body)}</td></tr>`,
      );
    }
    h.push('</table>');
  }

  h.push('<h2>Commands run</h2>');
  if (m.steps.length === 0) h.push('<p>No commands were run in this case.</p>');
  else {
    h.push('<table><tr><th>step</th><th>host</th><th>command</th><th>result</th><th>artifacts (sha256)</th></tr>');
    for (const s of m.steps) {
      const arts = m.artifacts.filter((a) => a.stepId === s.id);
      const dur = s.startedNs !== undefined && s.endedNs !== undefined ? formatDuration(s.endedNs - s.startedNs) : '';
      h.push(
        `<tr><td>${esc(s.title || s.stepKey)}${s.isRestore ? ' (restore)' : ''}</td><td>${esc(hostName(m.hosts, s.hostId))}</td><td><code>${esc(s.command)}</code></td><td>${esc(s.status)}${s.exitCode !== undefined ? `, exit ${s.exitCode}` : ''} ${esc(dur)}</td><td>${arts.map((a) => `${esc(a.stream)} ${a.size} B <code>${esc(a.sha256 ?? 'incomplete')}</code>`).join('<br>')}</td></tr>`,
      );
    }
    h.push('</table>');
  }
  const imported = m.artifacts.filter((a) => a.source === 'import');
  if (imported.length) {
    h.push('<h2>Imported evidence</h2><table><tr><th>name</th><th>kind</th><th>size</th><th>sha256</th><th>events</th></tr>');
    for (const a of imported) h.push(`<tr><td>${esc(a.name)}</td><td>${esc(a.kind)}</td><td>${a.size}</td><td><code>${esc(a.sha256 ?? '')}</code></td><td>${a.eventCount}${a.parseStatus === 'partial' ? ' (partial)' : ''}</td></tr>`);
    h.push('</table>');
  }

  h.push('<h2>Events that matter</h2>');
  if (m.keyEvents.length === 0) h.push('<p>No warnings, errors, error replies, unfinished syscalls or D-state processes.</p>');
  else {
    h.push('<table><tr><th>time (UTC)</th><th>host</th><th>kind</th><th>event</th></tr>');
    for (const e of m.keyEvents) h.push(`<tr><td>${esc(evTime(e, m.hosts))}</td><td>${esc(hostName(m.hosts, e.hostId))}</td><td>${esc(e.kind)}${e.level ? ` ${esc(e.level)}` : ''}</td><td><code>${esc(e.text.slice(0, 400))}</code></td></tr>`);
    h.push('</table>');
  }
  h.push('</body></html>');
  return h.join('\n');
}
