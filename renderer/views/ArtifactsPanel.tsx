import { lazy, Suspense, useState, type ReactNode } from 'react';
import { useApi } from '../api/context';
import { useAction } from '../util/hooks';
import { formatBytes, visible } from '../util/text';
import { useCase } from './caseContext';

// Monaco is big: load it only when an artifact is opened, so the case and timeline paint first.
const ArtifactViewer = lazy(() => import('./ArtifactViewer'));

const KINDS = ['auto', 'dmesg', 'strace', 'pcap', 'proc-stack', 'proc-locks', 'ps', 'mountstats', 'rpcinfo', 'syslog', 'text'];

/** bytes -> base64 without building a giant string of char codes in one call. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function ArtifactsPanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [hostName, setHostName] = useState('');
  const [kind, setKind] = useState('auto');
  const imp = useAction();
  const [files, setFiles] = useState<FileList | null>(null);
  const [importing, setImporting] = useState<string | undefined>(undefined);

  const doImport = async (): Promise<void> => {
    if (!files) return;
    await imp.run(async () => {
      for (const f of Array.from(files)) {
        setImporting(f.name);
        const bytes = new Uint8Array(await f.arrayBuffer());
        await api.call('artifacts.import', { caseId: ctx.caseId, name: f.name, base64: toBase64(bytes), kind: kind === 'auto' ? undefined : kind, hostName: hostName.trim() || undefined });
      }
      setImporting(undefined);
      ctx.reload();
    });
    setImporting(undefined);
  };

  const v = ctx.viewer;
  return (
    <div className="artifacts">
      <section className="card">
        <h2>Import evidence</h2>
        <div className="row wrap">
          <input type="file" multiple onChange={(e) => setFiles(e.target.files)} data-testid="import-files" />
          <label>
            Host <input value={hostName} onChange={(e) => setHostName(e.target.value)} placeholder="host it came from" list="case-hosts" data-testid="import-host" />
          </label>
          <datalist id="case-hosts">
            {ctx.detail.hosts.map((h) => (
              <option key={h.id} value={h.name} />
            ))}
          </datalist>
          <label>
            Kind{' '}
            <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="import-kind">
              {KINDS.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
          <button className="primary" disabled={!files || files.length === 0 || imp.pending} onClick={() => void doImport()} data-testid="import-button">
            Import
          </button>
          {importing && (
            <span className="small">
              importing {visible(importing)} <progress />
            </span>
          )}
        </div>
        {imp.error && <p className="error">{imp.error}</p>}
      </section>
      <section className="card">
        <h2>Artifacts</h2>
        {ctx.detail.artifacts.length === 0 && <p className="muted">No artifacts yet.</p>}
        <table className="grid" data-testid="artifact-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Host</th>
              <th>Kind</th>
              <th className="num">Size</th>
              <th>SHA-256</th>
              <th>Parse</th>
              <th className="num">Events</th>
            </tr>
          </thead>
          <tbody>
            {ctx.detail.artifacts.map((a) => (
              <tr key={a.id} className={`clickable ${v?.artifactId === a.id ? 'selected' : ''}`} onClick={() => ctx.openArtifact(a.id, 1)} data-testid={`artifact-${a.name}`}>
                <td>
                  <button className="link">{visible(a.name)}</button>
                  {!a.complete && <span className="badge warn">incomplete</span>}
                </td>
                <td>{visible(ctx.hostName(a.hostId))}</td>
                <td>{visible(a.kind)}</td>
                <td className="num">{formatBytes(a.size)}</td>
                <td className="mono small" title={a.sha256 ?? ''}>
                  {a.sha256 ? `${a.sha256.slice(0, 12)}…` : '—'}
                </td>
                <td title={a.parseWarnings.map(visible).join('\n')}>
                  <span className={`badge parse-${a.parseStatus}`}>{visible(a.parseStatus)}</span>
                  {a.parseWarnings.length > 0 && <span className="muted small"> {a.parseWarnings.length} warnings</span>}
                </td>
                <td className="num">{a.eventCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {v && (
        <Suspense fallback={<p className="muted">Loading the viewer…</p>}>
          <ArtifactViewer artifactId={v.artifactId} line={v.line} seq={v.seq} />
        </Suspense>
      )}
    </div>
  );
}
