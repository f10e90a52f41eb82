import type { ReactNode } from 'react';
import type { Finding } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { Markdown } from '../markdown/Markdown';
import { useAction } from '../util/hooks';
import { clip, visible } from '../util/text';
import { showNs } from '../util/time';
import { useCase } from './caseContext';

const SEVERITY_ORDER = ['critical', 'high', 'error', 'warning', 'warn', 'medium', 'low', 'info'];

export function FindingsPanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const act = useAction();
  const list = [...ctx.detail.findings].sort((a, b) => rank(a.severity) - rank(b.severity));
  return (
    <div className="findings">
      <div className="row">
        <h2 className="grow">Findings</h2>
        <button disabled={act.pending} onClick={() => void act.run(async () => (await api.call('findings.analyze', { caseId: ctx.caseId }), ctx.reload()))} data-testid="analyze">
          {act.pending ? 'Analyzing…' : 'Re-analyze'}
        </button>
      </div>
      {act.error && <p className="error">{act.error}</p>}
      {list.length === 0 && <p className="muted">No findings. They appear as evidence is collected or imported.</p>}
      {list.map((f) => (
        <FindingCard key={f.id} f={f} />
      ))}
    </div>
  );
}

function rank(sev: string): number {
  const i = SEVERITY_ORDER.indexOf(sev.toLowerCase());
  return i < 0 ? SEVERITY_ORDER.length : i;
}

/** One piece of evidence as the rules engine stores it: an event id, or an object naming an event and/or an artifact line. */
interface EvidenceRef {
  readonly eventId?: number | undefined;
  readonly artifactId?: number | undefined;
  readonly line?: number | undefined;
  readonly label: string;
}

export function evidenceRef(e: unknown): EvidenceRef | undefined {
  if (typeof e === 'number' && Number.isInteger(e)) return { eventId: e, label: `event ${e}` };
  if (typeof e !== 'object' || e === null) return typeof e === 'string' ? { label: e } : undefined;
  const o = e as Record<string, unknown>;
  const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  const eventId = int(o.eventId ?? o.event_id ?? o.event);
  const artifactId = int(o.artifactId ?? o.artifact_id ?? o.artifact);
  const line = int(o.line);
  const text = typeof o.text === 'string' ? o.text : typeof o.label === 'string' ? o.label : typeof o.summary === 'string' ? o.summary : undefined;
  return { eventId, artifactId, line, label: text ?? (eventId !== undefined ? `event ${eventId}` : artifactId !== undefined ? `artifact ${artifactId}${line !== undefined ? `:${line}` : ''}` : JSON.stringify(o)) };
}

export function FindingCard({ f }: { f: Finding }): ReactNode {
  const ctx = useCase();
  const refs = f.evidence.map(evidenceRef).filter((r): r is EvidenceRef => r !== undefined);
  return (
    <section className={`card finding sev-${f.severity.toLowerCase()}`} data-testid={`finding-${f.rule}`}>
      <div className="row wrap">
        <span className={`badge sev-${f.severity.toLowerCase()}`}>{visible(f.severity)}</span>
        <strong className="grow">{visible(f.title)}</strong>
        <span className="mono small muted">{visible(f.rule)}</span>
      </div>
      <div className="small muted">
        {f.hostId !== undefined && <>on {visible(ctx.hostName(f.hostId))} · </>}
        {f.firstNs && <>from {showNs(f.firstNs, ctx.zone, 3)}</>}
        {f.lastNs && f.lastNs !== f.firstNs && <> to {showNs(f.lastNs, ctx.zone, 3)}</>}
      </div>
      <Markdown source={f.explanation} />
      {f.next && (
        <div className="next">
          <strong>Next:</strong> <Markdown source={f.next} />
        </div>
      )}
      {refs.length > 0 && (
        <div className="evidence small">
          Evidence:
          <ul>
            {refs.slice(0, 50).map((r, i) => (
              <li key={i}>
                <button
                  className="link"
                  disabled={r.eventId === undefined && r.artifactId === undefined}
                  onClick={() => (r.eventId !== undefined ? void ctx.openEvent(r.eventId) : r.artifactId !== undefined && ctx.openArtifact(r.artifactId, r.line))}
                  data-testid="evidence-link"
                >
                  {clip(visible(r.label), 200)}
                </button>
              </li>
            ))}
          </ul>
          {refs.length > 50 && <span className="muted">and {refs.length - 50} more</span>}
        </div>
      )}
    </section>
  );
}
