import { useEffect, useState, type ReactNode } from 'react';
import type { Output } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { useAction } from '../util/hooks';
import { useCase } from './caseContext';
import { visibleLines } from '../util/text';

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

  useEffect(() => {
    if (!report) return;
    const u = URL.createObjectURL(new Blob([report.content], { type: report.format === 'html' ? 'text/html;charset=utf-8' : 'text/markdown;charset=utf-8' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [report]);

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
        {act.pending && <progress className="inline" />}
        {report && url && (
          <a className="button" href={url} download={report.fileName} data-testid="export-download">
            Download {report.fileName}
          </a>
        )}
      </div>
      {act.error && <p className="error">{act.error}</p>}
      {report?.format === 'md' && (
        <pre className="report-md" data-testid="report-md">
          {visibleLines(report.content)}
        </pre>
      )}
      {report?.format === 'html' && <iframe className="report-html" title="HTML report" sandbox="" srcDoc={report.content} data-testid="report-html" />}
    </div>
  );
}
