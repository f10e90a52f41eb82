import { useState, type ReactNode } from 'react';
import type { Output } from '../../shared/api/contract';
import { useApi, useApiEvent } from '../api/context';
import { toBase64 } from './ArtifactsPanel';
import { useAction, useLoad } from '../util/hooks';
import { showNs } from '../util/time';
import { visible } from '../util/text';

export function CaseList({ open }: { open: (caseId: number) => void }): ReactNode {
  const api = useApi();
  const cases = useLoad(() => api.call('cases.list', {}), []);
  useApiEvent('case.updated', () => cases.reload());
  const [filter, setFilter] = useState('');
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const create = useAction();

  const q = filter.trim().toLowerCase();
  // Name/title filter locally; the evidence itself is searched across every case by cases.search (offline, FTS).
  const [deep, setDeep] = useState<Output<'cases.search'> | undefined>(undefined);
  const deepAct = useAction();
  const bundle = useAction();
  const deepIds = new Set((deep ?? []).map((d) => d.caseId));
  const shown = (cases.data ?? []).filter((c) => !q || c.name.toLowerCase().includes(q) || c.title.toLowerCase().includes(q) || deepIds.has(c.id));
  const importBundle = async (f: File): Promise<void> => {
    const c = await bundle.run(async () => api.call('cases.importBundle', { base64: toBase64(new Uint8Array(await f.arrayBuffer())) }));
    if (c) cases.reload();
  };

  const submit = async (): Promise<void> => {
    const c = await create.run(() => api.call('cases.create', { name: name.trim(), title: title.trim() || undefined }));
    if (c) open(c.id);
  };

  return (
    <div className="page">
      <section className="card">
        <h2>New case</h2>
        <form
          className="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label>
            Name <input data-testid="new-case-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="incident-2024-05-01" required maxLength={128} />
          </label>
          <label className="grow">
            Title <input data-testid="new-case-title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="php-fpm workers stuck in flock" maxLength={500} />
          </label>
          <button className="primary" type="submit" disabled={create.pending || !name.trim()} data-testid="create-case">
            Create case
          </button>
        </form>
        {create.error && <p className="error">{create.error}</p>}
      </section>
      <section className="card">
        <div className="row">
          <h2 className="grow">Cases</h2>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              if (q) void deepAct.run(async () => setDeep(await api.call('cases.search', { query: filter.trim() })));
              else setDeep(undefined);
            }}
          >
            <input type="search" placeholder="Filter; Enter searches the evidence" value={filter} onChange={(e) => (setFilter(e.target.value), setDeep(undefined))} data-testid="case-filter" />
          </form>
          <label className="button" title="Import a .casefile bundle (integrity is checked)">
            Import bundle…
            <input type="file" accept=".casefile" hidden onChange={(e) => e.target.files?.[0] && void importBundle(e.target.files[0])} data-testid="import-bundle" />
          </label>
        </div>
        {deepAct.error && <p className="error">{deepAct.error}</p>}
        {bundle.error && <p className="error">{bundle.error}</p>}
        {deep && (
          <ul className="small" data-testid="case-search-hits">
            {deep.map((d) => (
              <li key={d.caseId}>
                <button className="link" onClick={() => open(d.caseId)}>
                  {visible(d.name)}
                </button>{' '}
                {d.hits} hits {d.snippet ? <span className="mono muted">{visible(d.snippet)}</span> : null}
              </li>
            ))}
          </ul>
        )}
        {cases.error && <p className="error">{cases.error}</p>}
        {cases.loading && !cases.data && <p className="muted">Loading…</p>}
        {cases.data && shown.length === 0 && <p className="muted">{cases.data.length === 0 ? 'No cases yet: create one above.' : 'No case matches the filter.'}</p>}
        <table className="grid" data-testid="case-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Title</th>
              <th>Created (UTC)</th>
              <th className="num">Hosts</th>
              <th className="num">Artifacts</th>
              <th className="num">Events</th>
              <th className="num">Findings</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.id} className="clickable" onClick={() => open(c.id)} data-testid={`case-row-${c.name}`}>
                <td>
                  <button className="link" onClick={() => open(c.id)}>
                    {visible(c.name)}
                  </button>
                  {c.readOnly && <span className="badge">read-only</span>}
                </td>
                <td>{visible(c.title)}</td>
                <td>{showNs(c.createdNs, 'UTC', 0)}</td>
                <td className="num">{c.hostCount}</td>
                <td className="num">{c.artifactCount}</td>
                <td className="num">{c.eventCount}</td>
                <td className="num">{c.findingCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
