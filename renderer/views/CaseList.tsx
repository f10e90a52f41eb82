import { useState, type ReactNode } from 'react';
import { useApi, useApiEvent } from '../api/context';
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
  const shown = (cases.data ?? []).filter((c) => !q || c.name.toLowerCase().includes(q) || c.title.toLowerCase().includes(q));

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
          <input type="search" placeholder="Filter cases" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="case-filter" />
        </div>
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
