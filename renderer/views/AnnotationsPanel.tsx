import { useState, type ReactNode } from 'react';
import type { Annotation } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { Markdown } from '../markdown/Markdown';
import { useAction } from '../util/hooks';
import { visible } from '../util/text';
import { showNs } from '../util/time';
import { useCase } from './caseContext';
import { AnnotationEditor, MARKERS } from './AnnotationEditor';

export function AnnotationsPanel(): ReactNode {
  const ctx = useCase();
  const [onlyStarred, setOnlyStarred] = useState(false);
  const [marker, setMarker] = useState('');
  const list = ctx.detail.annotations.filter((a) => (!onlyStarred || a.starred) && (!marker || a.marker === marker));
  return (
    <div className="annotations">
      <div className="row wrap toolbar">
        <h2 className="grow">Annotations</h2>
        <label>
          <input type="checkbox" checked={onlyStarred} onChange={(e) => setOnlyStarred(e.target.checked)} /> starred only
        </label>
        <select value={marker} onChange={(e) => setMarker(e.target.value)} aria-label="marker filter">
          <option value="">all markers</option>
          {MARKERS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
        <button onClick={() => ctx.annotate({ target: 'case' })}>Note on the case…</button>
      </div>
      {list.length === 0 && <p className="muted">No annotations. Select an event on the timeline or in Events and press “Annotate”.</p>}
      {list.map((a) => (
        <AnnotationCard key={a.id} a={a} />
      ))}
    </div>
  );
}

function AnnotationCard({ a }: { a: Annotation }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [editing, setEditing] = useState(false);
  const [showHistory, setShowHistory] = useState(false);
  const star = useAction();
  const art = a.artifactId !== undefined ? ctx.detail.artifacts.find((x) => x.id === a.artifactId) : undefined;
  return (
    <section className="card annotation" data-testid={`annotation-${a.id}`}>
      <div className="row wrap">
        <button
          className={`star ${a.starred ? 'on' : ''}`}
          title={a.starred ? 'Unstar' : 'Star'}
          disabled={star.pending}
          onClick={() => void star.run(async () => (await api.call('annotations.update', { caseId: ctx.caseId, id: a.id, starred: !a.starred }), ctx.reload()))}
          data-testid="annotation-toggle-star"
        >
          {a.starred ? '★' : '☆'}
        </button>
        {a.marker && <span className={`badge marker-${a.marker}`}>{MARKERS.find((m) => m.id === a.marker)?.label ?? visible(a.marker)}</span>}
        <span className="grow small muted">
          {a.target === 'event' && a.eventId !== undefined && (
            <button className="link" onClick={() => void ctx.openEvent(a.eventId!)}>
              event #{a.eventId}
            </button>
          )}
          {a.target === 'range' && `${showNs(a.startNs, ctx.zone, 6)} → ${showNs(a.endNs, ctx.zone, 6)}`}
          {a.target === 'artifact-line' && a.artifactId !== undefined && (
            <button className="link" onClick={() => ctx.openArtifact(a.artifactId!, a.line)}>
              {visible(art?.name ?? `artifact ${a.artifactId}`)}:{a.line}
            </button>
          )}
          {a.target === 'case' && 'case note'} · {visible(a.author)} · {showNs(a.updatedNs, ctx.zone, 0)}
        </span>
        <button onClick={() => setEditing(true)}>Edit</button>
        {a.history.length > 0 && <button onClick={() => setShowHistory(!showHistory)}>History ({a.history.length})</button>}
      </div>
      {star.error && <p className="error">{star.error}</p>}
      <Markdown source={a.body} />
      {showHistory && (
        <ol className="history small" data-testid="annotation-history">
          {a.history.map((h, i) => (
            <li key={i}>
              <span className="muted">
                {showNs(h.editedNs, ctx.zone, 0)} {h.starred ? '★' : ''} {h.marker ? visible(h.marker) : ''}
              </span>
              <pre className="history-body">{visible(h.body)}</pre>
            </li>
          ))}
        </ol>
      )}
      {editing && <AnnotationEditor existing={a} onClose={() => setEditing(false)} />}
    </section>
  );
}
