import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import Editor, { type OnMount } from '@monaco-editor/react';
import type { Output } from '../../shared/api/contract';
import { monaco } from '../monaco/setup';
import { languageFor } from '../monaco/languages';
import { useApi } from '../api/context';
import { errorText } from '../api/errors';
import { clip, formatBytes, visible } from '../util/text';
import { useCase } from './caseContext';
import { PageIndex } from '../viewer/paging';
import { PacketPanel } from './PacketPanel';

type Page = Output<'artifacts.read'>;
type MonacoEditor = Parameters<OnMount>[0];

/** Lines per page: Monaco holds only this window of a large artifact, never the whole file. */
export const PAGE_LINES = 2000;
/** When jumping to line L, the page starts this many lines before it, so the context above is visible. */
const CONTEXT_ABOVE = 200;

/**
 * An artifact opened read-only in Monaco, paged by lines through artifacts.read. Monaco renders text only
 * (never markup), shows control characters, and has link detection off so nothing in an artifact is clickable.
 */
export default function ArtifactViewer({ artifactId, line, seq }: { artifactId: number; line?: number | undefined; seq: number }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [target, setTarget] = useState<number>(line ?? 1);
  const [cursor, setCursor] = useState<number>(line ?? 1);
  const [goto, setGoto] = useState('');
  const editorRef = useRef<MonacoEditor | undefined>(undefined);
  const decorations = useRef<string[]>([]);
  const index = useMemo(() => (page ? new PageIndex(page, page.artifact.kind === 'pcap') : undefined), [page]);

  const load = async (fromLine: number, want: number): Promise<void> => {
    try {
      const p = await api.call('artifacts.read', { artifactId, fromLine: Math.max(1, fromLine), maxLines: PAGE_LINES });
      setPage(p);
      setTarget(want);
      setCursor(want);
      setError(undefined);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const jump = (l: number): void => {
    const want = Math.max(1, l);
    if (index && index.rowOf(want) !== undefined) {
      setTarget(want);
      setCursor(want);
      return;
    }
    void load(want - CONTEXT_ABOVE, want);
  };

  useEffect(() => {
    const want = line ?? 1;
    void load(want - CONTEXT_ABOVE, want);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [artifactId, line, seq]);

  // Reveal and mark the target line whenever the page or target changes.
  useEffect(() => {
    const ed = editorRef.current;
    if (ed && index) reveal(ed, index, target);
  }, [index, target]);

  const onMount: OnMount = (ed) => {
    editorRef.current = ed;
    ed.onDidChangeCursorPosition((e) => {
      const ix = indexRef.current;
      if (ix) setCursor(ix.numberAt(e.position.lineNumber));
    });
    // A page loaded before the editor mounted: reveal now.
    if (indexRef.current) reveal(ed, indexRef.current, targetRef.current);
  };
  const reveal = (ed: MonacoEditor, ix: PageIndex, line: number): void => {
    const row = ix.rowOf(line);
    if (row === undefined) return;
    ed.revealLineInCenter(row);
    ed.setPosition({ lineNumber: row, column: 1 });
    setCursor(ix.numberAt(row));
    decorations.current = ed.deltaDecorations(decorations.current, [
      { range: new monaco.Range(row, 1, row, 1), options: { isWholeLine: true, className: 'viewer-target-line', linesDecorationsClassName: 'viewer-target-gutter' } },
    ]);
  };
  const indexRef = useRef<PageIndex | undefined>(undefined);
  indexRef.current = index;
  const targetRef = useRef(target);
  targetRef.current = target;

  const a = page?.artifact ?? ctx.detail.artifacts.find((x) => x.id === artifactId);
  const from = page?.fromLine ?? 1;
  const total = a?.lineCount;
  const cursorRow = index?.rowOf(cursor);
  const cursorText = index && cursorRow !== undefined && index.numberAt(cursorRow) === cursor ? index.textAt(cursorRow) : undefined;

  return (
    <div className="viewer" data-testid="viewer" data-artifact-id={artifactId} data-from-line={from} data-target-line={target} data-cursor-line={cursor}>
      <div className="row wrap toolbar">
        <strong>{a ? visible(a.name) : `artifact ${artifactId}`}</strong>
        {a && (
          <span className="muted small">
            {visible(a.kind)} · {formatBytes(a.size)} · {visible(ctx.hostName(a.hostId))}
            {a.invalidUtf8 > 0 ? ` · ${a.invalidUtf8} bytes not UTF-8 (shown as �)` : ''}
          </span>
        )}
        <span className="spacer" />
        <button disabled={!page || from <= 1} onClick={() => void load(from - PAGE_LINES, Math.max(1, from - PAGE_LINES))}>
          ◀ Previous
        </button>
        <span className="small mono" data-testid="viewer-range">
          {page?.artifact.kind === 'pcap' ? 'frames' : 'lines'} {index?.first ?? from}–{index?.last ?? from}
          {total !== undefined ? ` of ${total}` : ''}
        </span>
        <button disabled={!page || !page.truncated || !index} onClick={() => index && void load(index.last + 1, index.last + 1)}>
          Next ▶
        </button>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const n = Number(goto);
            if (Number.isInteger(n) && n >= 1) jump(n);
          }}
        >
          <input className="narrow" placeholder="line" value={goto} onChange={(e) => setGoto(e.target.value)} data-testid="viewer-goto" aria-label="go to line" />
        </form>
        <button onClick={() => ctx.annotate({ target: 'artifact-line', artifactId, line: cursor, label: cursorText ?? '' })} data-testid="annotate-line">
          Annotate line {cursor}
        </button>
      </div>
      {error && <p className="error">{error}</p>}
      <div className="editor-box">
        {page && (
          <Editor
            value={page.lines.join('\n')}
            language={languageFor(page.artifact.kind)}
            theme={ctx.theme === 'dark' ? 'vs-dark' : 'vs'}
            onMount={onMount}
            options={{
              readOnly: true,
              domReadOnly: true,
              lineNumbers: (n: number) => String(index?.numberAt(n) ?? n),
              lineNumbersMinChars: Math.max(5, String(index?.last ?? 0).length + 1),
              renderControlCharacters: true,
              unicodeHighlight: { ambiguousCharacters: true, invisibleCharacters: true, nonBasicASCII: false },
              links: false,
              colorDecorators: false, // '#104' in a capture line is a frame number, not a colour
              minimap: { enabled: false },
              scrollBeyondLastLine: false,
              wordWrap: 'off',
              automaticLayout: true,
              contextmenu: false,
              fontSize: 12,
            }}
          />
        )}
      </div>
      <div className="statusbar mono small" data-testid="viewer-line">
        {cursor}: {cursorText !== undefined ? clip(visible(cursorText), 400) : ''}
      </div>
      {a?.kind === 'pcap' && cursorText !== undefined && <PacketPanel artifactId={artifactId} frame={cursor} />}
    </div>
  );
}
