import { useState, type ReactNode } from 'react';
import type { Annotation } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { Markdown } from '../markdown/Markdown';
import { useAction } from '../util/hooks';
import { clip, visible } from '../util/text';
import { showNs } from '../util/time';
import { useCase, type AnnotationTarget } from './caseContext';

export const MARKERS = [
  { id: 'detection', label: 'Detection' },
  { id: 'diagnosis', label: 'Diagnosis' },
  { id: 'repair', label: 'Repair' },
  { id: 'key-moment', label: 'Key moment' },
] as const;
export type MarkerId = (typeof MARKERS)[number]['id'];

export function targetLabel(t: AnnotationTarget, zone: Parameters<typeof showNs>[1]): string {
  switch (t.target) {
    case 'event':
      return `event: ${clip(visible(t.label), 120)}`;
    case 'range':
      return `time range ${showNs(t.startNs, zone, 6)} → ${showNs(t.endNs, zone, 6)}`;
    case 'artifact-line':
      return `line ${t.line}: ${clip(visible(t.label), 120)}`;
    case 'case':
      return 'the whole case';
    default: {
      const never: never = t;
      return never;
    }
  }
}

/** New annotation (target given) or an edit of an existing one. Markdown with a live preview. */
export function AnnotationEditor({ target, existing, onClose }: { target?: AnnotationTarget; existing?: Annotation; onClose: () => void }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [body, setBody] = useState(existing?.body ?? '');
  const [marker, setMarker] = useState<MarkerId | ''>(existing?.marker ?? '');
  const [starred, setStarred] = useState(existing?.starred ?? false);
  const act = useAction();

  const save = async (): Promise<void> => {
    const ok = await act.run(async () => {
      if (existing) {
        await api.call('annotations.update', { caseId: ctx.caseId, id: existing.id, body, marker: marker === '' ? null : marker, starred });
      } else if (target) {
        const base = { caseId: ctx.caseId, body, marker: marker === '' ? undefined : marker, starred };
        switch (target.target) {
          case 'event':
            await api.call('annotations.add', { ...base, target: 'event', eventId: target.eventId });
            break;
          case 'range':
            await api.call('annotations.add', { ...base, target: 'range', startNs: target.startNs, endNs: target.endNs });
            break;
          case 'artifact-line':
            await api.call('annotations.add', { ...base, target: 'artifact-line', artifactId: target.artifactId, line: target.line });
            break;
          case 'case':
            await api.call('annotations.add', { ...base, target: 'case' });
            break;
          default: {
            const never: never = target;
            return never;
          }
        }
      }
      return true;
    });
    if (ok) {
      ctx.reload();
      onClose();
    }
  };

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal wide" role="dialog" aria-label="Annotation" onClick={(e) => e.stopPropagation()} data-testid="annotation-editor">
        <h2>{existing ? 'Edit annotation' : 'New annotation'}</h2>
        {target && <p className="muted small">On {targetLabel(target, ctx.zone)}</p>}
        <div className="row wrap">
          {MARKERS.map((m) => (
            <label key={m.id}>
              <input type="radio" name="marker" checked={marker === m.id} onChange={() => setMarker(m.id)} data-testid={`marker-${m.id}`} /> {m.label}
            </label>
          ))}
          <label>
            <input type="radio" name="marker" checked={marker === ''} onChange={() => setMarker('')} /> no marker
          </label>
          <label>
            <input type="checkbox" checked={starred} onChange={(e) => setStarred(e.target.checked)} data-testid="annotation-star" /> ★ starred
          </label>
        </div>
        <div className="split">
          <textarea
            autoFocus
            rows={8}
            value={body}
            onChange={(e) => setBody(e.target.value)}
            placeholder="What this shows, in Markdown: **bold**, `code`, lists"
            data-testid="annotation-body"
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void save();
            }}
          />
          <div className="preview">
            <Markdown source={body || '_preview_'} />
          </div>
        </div>
        {act.error && <p className="error">{act.error}</p>}
        <div className="row end">
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={act.pending || !body.trim()} onClick={() => void save()} data-testid="annotation-save">
            Save (Ctrl+Enter)
          </button>
        </div>
      </div>
    </div>
  );
}
