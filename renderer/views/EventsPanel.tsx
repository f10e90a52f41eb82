import { useState, type ReactNode } from 'react';
import { useApi } from '../api/context';
import { useLoad } from '../util/hooks';
import { clip, visible } from '../util/text';
import { showDuration, showNs } from '../util/time';
import { useCase } from './caseContext';

const PAGE = 200;

/** The events of the case as a table, a page at a time (the store may hold millions). */
export function EventsPanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [offset, setOffset] = useState(0);
  const [hostId, setHostId] = useState<number | undefined>(undefined);
  const [kind, setKind] = useState('');
  const [artifactId, setArtifactId] = useState<number | undefined>(undefined);
  const events = useLoad(
    () => api.call('events.list', { caseId: ctx.caseId, limit: PAGE, offset, hostIds: hostId !== undefined ? [hostId] : undefined, kinds: kind ? [kind] : undefined, artifactId }),
    [ctx.caseId, offset, hostId, kind, artifactId, ctx.detail],
  );
  const rows = events.data ?? [];
  const sel = ctx.selectedEvent?.id;

  return (
    <div className="events">
      <div className="row wrap toolbar">
        <label>
          Host{' '}
          <select value={hostId ?? ''} onChange={(e) => (setOffset(0), setHostId(e.target.value ? Number(e.target.value) : undefined))} data-testid="events-host">
            <option value="">all</option>
            {ctx.detail.hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {visible(h.name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => (setOffset(0), setKind(e.target.value))} data-testid="events-kind">
            <option value="">all</option>
            {['kernel', 'syscall', 'signal', 'rpc', 'packet', 'process', 'stack', 'lock', 'mountstats', 'mount', 'service', 'log', 'profile', 'host', 'step', 'note'].map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Artifact{' '}
          <select value={artifactId ?? ''} onChange={(e) => (setOffset(0), setArtifactId(e.target.value ? Number(e.target.value) : undefined))}>
            <option value="">all</option>
            {ctx.detail.artifacts.map((a) => (
              <option key={a.id} value={a.id}>
                {visible(a.name)}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          ◀
        </button>
        <span className="small">
          {rows.length ? `${offset + 1}–${offset + rows.length}` : 'none'}
        </span>
        <button disabled={rows.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
          ▶
        </button>
      </div>
      {events.error && <p className="error">{events.error}</p>}
      <table className="grid events-table" data-testid="events-table">
        <thead>
          <tr>
            <th>Time ({ctx.corrected ? 'corrected' : 'raw'}, {ctx.zone})</th>
            <th>Host</th>
            <th>Kind</th>
            <th>Level</th>
            <th className="num">PID</th>
            <th className="num">Duration</th>
            <th>Text</th>
            <th>Where</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.id} className={`clickable ${sel === e.id ? 'selected' : ''} ${e.level ? `level-${e.level}` : ''}`} onClick={() => ctx.selectEvent(e)} data-testid={`event-${e.id}`} data-kind={e.kind}>
              <td className="mono small nowrap">{showNs(ctx.corrected ? (e.correctedNs ?? e.tsNs) : e.tsNs, ctx.zone, 6)}</td>
              <td>{visible(ctx.hostName(e.hostId))}</td>
              <td>{visible(e.kind)}</td>
              <td>{e.level ? visible(e.level) : ''}</td>
              <td className="num">{e.pid ?? ''}</td>
              <td className="num">{e.durationNs ? showDuration(e.durationNs) : ''}</td>
              <td className="mono small event-text-cell">{clip(visible(e.text), 300)}</td>
              <td>
                <button
                  className="link"
                  onClick={(ev) => {
                    ev.stopPropagation();
                    ctx.selectEvent(e);
                    ctx.openArtifact(e.artifactId, e.line);
                  }}
                >
                  {visible(ctx.detail.artifacts.find((a) => a.id === e.artifactId)?.name ?? `#${e.artifactId}`)}
                  {e.line !== undefined ? `:${e.line}` : ''}
                </button>
              </td>
              <td>
                <button
                  onClick={(ev) => {
                    ev.stopPropagation();
                    ctx.annotate({ target: 'event', eventId: e.id, label: e.text });
                  }}
                  data-testid={`annotate-${e.id}`}
                >
                  Annotate
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
