import { useState, type ReactNode } from 'react';
import type { Host, Output } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { useAction } from '../util/hooks';
import { visible } from '../util/text';
import { msTextToNs, nsToMsText, showDuration, showNs } from '../util/time';
import { useCase } from './caseContext';

export function HostsPanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [dest, setDest] = useState('');
  const [name, setName] = useState('');
  const add = useAction();
  const cfg = useAction();
  const [configHosts, setConfigHosts] = useState<Output<'hosts.listConfig'> | undefined>(undefined);

  const addHost = async (destination: string, hostName?: string): Promise<void> => {
    const h = await add.run(() => api.call('hosts.add', { caseId: ctx.caseId, destination, name: hostName || undefined }));
    if (h) {
      setDest('');
      setName('');
      ctx.reload();
    }
  };

  const existing = new Set(ctx.detail.hosts.map((h) => h.destination));

  return (
    <div className="hosts">
      <section className="card">
        <h2>Add a host</h2>
        <form
          className="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            if (dest.trim()) void addHost(dest.trim(), name.trim());
          }}
        >
          <label className="grow">
            Destination <input value={dest} onChange={(e) => setDest(e.target.value)} placeholder="alias from ~/.ssh/config, or user@host:port" data-testid="host-destination" />
          </label>
          <label>
            Name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="(optional)" data-testid="host-name" />
          </label>
          <button className="primary" type="submit" disabled={add.pending || !dest.trim()} data-testid="add-host">
            Add host
          </button>
          <button type="button" onClick={() => void cfg.run(async () => setConfigHosts(await api.call('hosts.listConfig', {})))} data-testid="import-ssh-config">
            From ~/.ssh/config…
          </button>
        </form>
        {add.error && <p className="error">{add.error}</p>}
        {cfg.error && <p className="error">{cfg.error}</p>}
        {configHosts && (
          <div className="config-hosts" data-testid="config-hosts">
            {configHosts.length === 0 && <p className="muted">No Host entries without wildcards in ~/.ssh/config.</p>}
            <table className="grid">
              <thead>
                <tr>
                  <th>Alias</th>
                  <th>HostName</th>
                  <th>User</th>
                  <th>Port</th>
                  <th>ProxyJump</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {configHosts.map((c) => (
                  <tr key={c.alias}>
                    <td>{visible(c.alias)}</td>
                    <td>{visible(c.hostname)}</td>
                    <td>{visible(c.user ?? '')}</td>
                    <td>{c.port ?? ''}</td>
                    <td>{c.proxyJump.map(visible).join(' → ')}</td>
                    <td>
                      <button disabled={existing.has(c.alias) || add.pending} onClick={() => void addHost(c.alias, c.alias)} data-testid={`add-config-${c.alias}`}>
                        {existing.has(c.alias) ? 'Added' : 'Add'}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card">
        <h2>Hosts in this case</h2>
        {ctx.detail.hosts.length === 0 && <p className="muted">No hosts yet.</p>}
        {ctx.detail.hosts.map((h) => (
          <HostCard key={h.id} host={h} />
        ))}
      </section>
    </div>
  );
}

function HostCard({ host: h }: { host: Host }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const test = useAction();
  const adj = useAction();
  const [adjust, setAdjust] = useState(nsToMsText(h.clockAdjustNs));
  const [tested, setTested] = useState<Host | undefined>(undefined);
  const cur = tested ?? h;

  const saveAdjust = async (): Promise<void> => {
    const ns = msTextToNs(adjust);
    if (ns === undefined) return;
    const r = await adj.run(() => api.call('hosts.setClockAdjust', { caseId: ctx.caseId, hostId: h.id, adjustNs: ns }));
    if (r) ctx.reload();
  };

  return (
    <div className="host-card" data-testid={`host-${h.name}`}>
      <div className="row wrap">
        <strong className="grow">{visible(cur.name)}</strong>
        <span className="mono small">
          {visible(cur.user ? `${cur.user}@` : '')}
          {visible(cur.hostname ?? cur.destination)}
          {cur.port ? `:${cur.port}` : ''}
        </span>
        <button
          disabled={test.pending}
          onClick={() =>
            void test.run(async () => {
              setTested(await api.call('hosts.test', { caseId: ctx.caseId, hostId: h.id }));
              ctx.reload();
            })
          }
          data-testid="test-host"
        >
          {test.pending ? 'Testing…' : 'Test connection'}
        </button>
      </div>
      {test.pending && <progress className="inline" />}
      {test.error && <p className="error">{test.error}</p>}
      <dl className="facts">
        <dt>Jump chain</dt>
        <dd>{cur.jumpChain.length ? [...cur.jumpChain, cur.name].map(visible).join(' → ') : 'direct'}</dd>
        <dt>Host key</dt>
        <dd className="mono" data-testid="host-fingerprint">
          {cur.hostKeyFingerprint ? `${visible(cur.hostKeyType ?? '')} ${visible(cur.hostKeyFingerprint)}` : 'not seen yet'}
        </dd>
        <dt>Clock offset</dt>
        <dd data-testid="host-offset">
          {cur.clockOffsetNs !== undefined ? (
            <>
              {showDuration(cur.clockOffsetNs)} ± {showDuration(cur.clockUncertaintyNs)} <span className="muted small">(host minus this machine, measured {showNs(cur.clockMeasuredNs, ctx.zone, 0)})</span>
            </>
          ) : (
            'not measured yet'
          )}
        </dd>
        <dt>Booted</dt>
        <dd>{showNs(cur.bootTimeNs, ctx.zone, 3)}</dd>
        <dt>Your adjustment</dt>
        <dd>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void saveAdjust();
            }}
          >
            <input className="narrow mono" value={adjust} onChange={(e) => setAdjust(e.target.value)} aria-label="clock adjustment in ms" data-testid="clock-adjust" /> ms
            <button type="submit" disabled={adj.pending || msTextToNs(adjust) === undefined}>
              Apply
            </button>
            <span className="muted small">added on top of the measured offset when time is shown corrected</span>
          </form>
          {adj.error && <p className="error">{adj.error}</p>}
        </dd>
      </dl>
    </div>
  );
}
