import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Output, SearchHit } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { useAction, useLoad } from '../util/hooks';
import { clip, visible } from '../util/text';
import { parseUserInstant, showNs } from '../util/time';
import { useCase } from './caseContext';

/** A saved search as the backend stores it (searches.save): the form's fields. */
interface SavedQuery {
  readonly query: string;
  readonly hostIds: readonly number[];
  readonly kinds: string;
  readonly from: string;
  readonly to: string;
}

function asSaved(q: Readonly<Record<string, unknown>>): SavedQuery {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    query: str(q.query),
    hostIds: Array.isArray(q.hostIds) ? q.hostIds.filter((x): x is number => typeof x === 'number') : [],
    kinds: str(q.kinds),
    from: str(q.from),
    to: str(q.to),
  };
}

export function SearchPanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [query, setQuery] = useState('');
  const [hostIds, setHostIds] = useState<readonly number[]>([]);
  const [kinds, setKinds] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [hits, setHits] = useState<readonly SearchHit[] | undefined>(undefined);
  const saved = useLoad(() => api.call('searches.list', { caseId: ctx.caseId }), [ctx.caseId]);
  const saveAct = useAction();
  const act = useAction();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const run = async (): Promise<void> => {
    const fromNs = from.trim() ? parseUserInstant(from) : undefined;
    const toNs = to.trim() ? parseUserInstant(to) : undefined;
    await act.run(async () => {
      if ((from.trim() && fromNs === undefined) || (to.trim() && toNs === undefined)) throw new Error('From/To: use ISO 8601, e.g. 2024-05-01T12:00:00Z');
      setHits(
        await api.call('search', {
          caseId: ctx.caseId,
          query,
          hostIds: hostIds.length ? [...hostIds] : undefined,
          kinds: kinds.trim() ? kinds.split(',').map((k) => k.trim()).filter(Boolean) : undefined,
          fromNs: fromNs?.toString(),
          toNs: toNs?.toString(),
          limit: 200,
        }),
      );
    });
  };

  const save = (): void =>
    void saveAct.run(async () => {
      const name = query.trim();
      const q: SavedQuery = { query, hostIds, kinds, from, to };
      await api.call('searches.save', { caseId: ctx.caseId, name, query: { ...q } });
      saved.reload();
    });

  return (
    <div className="search">
      <section className="card">
        <h2>Search</h2>
        <form
          className="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            void run();
          }}
        >
          <input ref={input} className="grow" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder='words, "a phrase", prefix*' data-testid="search-query" />
          <input className="narrow" value={kinds} onChange={(e) => setKinds(e.target.value)} placeholder="kinds (rpc,kernel)" data-testid="search-kinds" />
          <input className="mono" value={from} onChange={(e) => setFrom(e.target.value)} placeholder="from (ISO)" />
          <input className="mono" value={to} onChange={(e) => setTo(e.target.value)} placeholder="to (ISO)" />
          <button className="primary" type="submit" disabled={act.pending} data-testid="search-run">
            Search
          </button>
          <button type="button" onClick={save} disabled={!query.trim() || saveAct.pending} data-testid="search-save">
            Save search
          </button>
        </form>
        <div className="row wrap">
          {ctx.detail.hosts.map((h) => (
            <label key={h.id}>
              <input type="checkbox" checked={hostIds.includes(h.id)} onChange={(e) => setHostIds(e.target.checked ? [...hostIds, h.id] : hostIds.filter((x) => x !== h.id))} /> {visible(h.name)}
            </label>
          ))}
          {(saved.data?.length ?? 0) > 0 && <span className="muted small">Saved:</span>}
          {(saved.data ?? []).map((sv) => (
            <span key={sv.id} className="chip-group">
              <button
                className="chip"
                onClick={() => {
                  const q = asSaved(sv.query);
                  setQuery(q.query);
                  setHostIds(q.hostIds);
                  setKinds(q.kinds);
                  setFrom(q.from);
                  setTo(q.to);
                }}
                data-testid="saved-search"
              >
                {visible(sv.name)}
              </button>
              <button className="chip" title="Delete this saved search" onClick={() => void saveAct.run(async () => (await api.call('searches.delete', { caseId: ctx.caseId, id: sv.id }), saved.reload()))}>
                ×
              </button>
            </span>
          ))}
        </div>
        {saveAct.error && <p className="error">{saveAct.error}</p>}
        {act.error && <p className="error">{act.error}</p>}
        {hits && <p className="small muted" data-testid="search-count">{hits.length} hits{hits.length >= 200 ? ' (first 200)' : ''}</p>}
        {hits && hits.length > 0 && (
          <table className="grid" data-testid="search-results">
            <thead>
              <tr>
                <th>Time</th>
                <th>Host</th>
                <th>Kind</th>
                <th>Match</th>
                <th>Where</th>
              </tr>
            </thead>
            <tbody>
              {hits.map((h) => (
                <tr key={`${h.type}-${h.id}-${h.line ?? 0}`} className="clickable" onClick={() => (h.type === 'event' ? void ctx.openEvent(h.id) : ctx.openArtifact(h.artifactId, h.line))} data-testid="search-hit">
                  <td className="mono small nowrap">{showNs(h.tsNs, ctx.zone, 6)}</td>
                  <td>{visible(ctx.hostName(h.hostId))}</td>
                  <td>{visible(h.kind)}</td>
                  <td className="mono small">{clip(visible(h.snippet), 300)}</td>
                  <td className="small">
                    {visible(ctx.detail.artifacts.find((a) => a.id === h.artifactId)?.name ?? `#${h.artifactId}`)}
                    {h.line !== undefined ? `:${h.line}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <SqlConsole />
    </div>
  );
}

function SqlConsole(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [sql, setSql] = useState('SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY n DESC');
  const [res, setRes] = useState<Output<'sql.query'> | undefined>(undefined);
  const act = useAction();
  const run = (): void => void act.run(async () => setRes(await api.call('sql.query', { caseId: ctx.caseId, sql })));
  return (
    <section className="card">
      <h2>SQL console (read-only)</h2>
      <textarea
        className="mono"
        rows={4}
        value={sql}
        onChange={(e) => setSql(e.target.value)}
        spellCheck={false}
        data-testid="sql-text"
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run();
        }}
      />
      <div className="row end">
        <button className="primary" disabled={act.pending} onClick={run} data-testid="sql-run">
          Run (Ctrl+Enter)
        </button>
      </div>
      {act.error && <p className="error">{act.error}</p>}
      {res && (
        <div className="sql-result">
          <table className="grid" data-testid="sql-result">
            <thead>
              <tr>
                {res.columns.map((c) => (
                  <th key={c}>{visible(c)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {res.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((v, j) => (
                    <td key={j} className="mono small">
                      {clip(visible(v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)), 500)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {res.truncated && <p className="muted small">Only the first rows are shown.</p>}
        </div>
      )}
    </section>
  );
}
