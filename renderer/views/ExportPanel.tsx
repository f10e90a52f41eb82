import { useEffect, useState, type ReactNode } from 'react';
import type { Output } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { useAction } from '../util/hooks';
import { useCase } from './caseContext';
import { visibleLines } from '../util/text';

function desktopSavePdf(): ((caseId: number) => Promise<unknown>) | undefined {
  const c = (window as unknown as { casefile?: { savePdf?: unknown } }).casefile;
  return typeof c?.savePdf === 'function' ? (c.savePdf as (caseId: number) => Promise<unknown>) : undefined;
}

type Report = Output<'export.report'> & { readonly format: 'md' | 'html' };

/**
 * The report as the backend writes it. Markdown is shown as text; HTML in a sandboxed frame with scripts off
 * (the report is built to need none), so even a report that quoted hostile text cannot run anything here.
 */
export function ExportPanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [report, setReport] = useState<Report | undefined>(undefined);
  const [url, setUrl] = useState<string | undefined>(undefined);
  const act = useAction();
  const [redact, setRedact] = useState(false);
  const [bundleHash, setBundleHash] = useState<string | undefined>(undefined);

  useEffect(() => {
    if (!report) return;
    const u = URL.createObjectURL(new Blob([report.content], { type: report.format === 'html' ? 'text/html;charset=utf-8' : 'text/markdown;charset=utf-8' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [report]);

  // The desktop preload adds printToPDF of the HTML report (Electron only; the browser mode has no such bridge).
  const savePdf = desktopSavePdf();
  const make = (format: 'md' | 'html'): void => void act.run(async () => setReport({ ...(await api.call('export.report', { caseId: ctx.caseId, format })), format }));

  return (
    <div className="export">
      <div className="row wrap toolbar">
        <h2 className="grow">Report</h2>
        <button disabled={act.pending} onClick={() => make('md')} data-testid="export-md">
          Markdown
        </button>
        <button disabled={act.pending} onClick={() => make('html')} data-testid="export-html">
          HTML (self-contained)
        </button>
        <label title="Host names, IP addresses and user names are replaced consistently in the bundle">
          <input type="checkbox" checked={redact} onChange={(e) => setRedact(e.target.checked)} /> redact
        </label>
        <button
          disabled={act.pending}
          onClick={() =>
            void act.run(async () => {
              const b = await api.call('cases.exportBundle', { caseId: ctx.caseId, redact });
              const bin = atob(b.base64);
              const bytes = new Uint8Array(bin.length);
              for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
              const u = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
              const a = document.createElement('a');
              a.href = u;
              a.download = b.fileName;
              a.click();
              setTimeout(() => URL.revokeObjectURL(u), 10_000);
              setBundleHash(b.sha256);
            })
          }
          data-testid="export-bundle"
        >
          Bundle (.casefile)
        </button>
        {savePdf && (
          <button disabled={act.pending} onClick={() => void act.run(() => savePdf(ctx.caseId))} data-testid="export-pdf">
            PDF…
          </button>
        )}
        {act.pending && <progress className="inline" />}
        {report && url && (
          <a className="button" href={url} download={report.fileName} data-testid="export-download">
            Download {report.fileName}
          </a>
        )}
      </div>
      {act.error && <p className="error">{act.error}</p>}
      {bundleHash && <p className="small muted">Bundle written, SHA-256 {bundleHash}</p>}
      {report?.format === 'md' && (
        <pre className="report-md" data-testid="report-md">
          {visibleLines(report.content)}
        </pre>
      )}
      {report?.format === 'html' && <iframe className="report-html" title="HTML report" sandbox="" srcDoc={report.content} data-testid="report-html" />}
    </div>
  );
}
