import { useEffect, useRef, useState, type ReactNode } from 'react';
import Editor, { type OnMount } from '@monaco-editor/react';
import type * as Monaco from 'monaco-editor';
import schemaJson from '../../playbooks/playbook.schema.json';
import { RULES } from '../../shared/findings';
import { useApi } from '../api/context';
import { errorText } from '../api/errors';
import { monaco } from '../monaco/setup';
import { completionsAt, type CompletionKind, type SchemaNode } from '../playbook/completion';
import { visible } from '../util/text';
import { useCase } from './caseContext';

type MonacoEditor = Parameters<OnMount>[0];
interface Problem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

// Our own generated schema, imported at build time: its shape is the subset SchemaNode declares.
const SCHEMA = schemaJson as unknown as SchemaNode;
const RULE_INFO = RULES.map((r) => ({ id: r.id, title: r.title }));
const MODEL_SCHEME = 'casefile-playbook';
/** Validation waits for a pause in typing (each check parses the YAML and the zod schema on the backend). */
export const VALIDATE_DEBOUNCE_MS = 350;

declare global {
  interface Window {
    /** The open playbook editor, for tests and tooling (like window.__casefileTimeline). */
    __casefilePlaybookEditor?: MonacoEditor | undefined;
  }
}

let completionRegistered = false;

/** One provider for every playbook model (the scheme tells them apart from other YAML a future panel may open). */
function registerCompletion(): void {
  if (completionRegistered) return;
  completionRegistered = true;
  const kindOf = (k: CompletionKind): Monaco.languages.CompletionItemKind => {
    switch (k) {
      case 'property':
        return monaco.languages.CompletionItemKind.Property;
      case 'value':
        return monaco.languages.CompletionItemKind.EnumMember;
      case 'rule':
        return monaco.languages.CompletionItemKind.Reference;
      case 'parameter':
        return monaco.languages.CompletionItemKind.Variable;
      default: {
        const never: never = k;
        return never;
      }
    }
  };
  monaco.languages.registerCompletionItemProvider('yaml', {
    triggerCharacters: [' ', ':', '{', '-', '.'],
    provideCompletionItems(model, position) {
      if (model.uri.scheme !== MODEL_SCHEME) return { suggestions: [] };
      const items = completionsAt(SCHEMA, model.getValue(), position.lineNumber - 1, position.column - 1, RULE_INFO);
      return {
        suggestions: items.map((it) => ({
          label: it.label,
          kind: kindOf(it.kind),
          insertText: it.insertText,
          detail: it.detail,
          documentation: it.documentation,
          range: new monaco.Range(position.lineNumber, it.replaceFrom + 1, position.lineNumber, position.column),
        })),
      };
    },
  });
}

/**
 * A playbook's YAML in Monaco, checked against the playbook schema as you type: the backend's
 * `playbooks.validate` (the same zod schema and rule-id check the runner uses) gives line/column errors that
 * become Monaco markers; completion comes from the generated JSON Schema. Editing works on a copy: the
 * contract has no save, so the result is offered as a download once it validates.
 */
export default function PlaybookEditor({ playbookId, onClose }: { playbookId: string; onClose: () => void }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [original, setOriginal] = useState<string | undefined>(undefined);
  const [text, setText] = useState<string | undefined>(undefined);
  const [problems, setProblems] = useState<readonly Problem[]>([]);
  const [state, setState] = useState<'checking' | 'valid' | 'invalid'>('checking');
  const [error, setError] = useState<string | undefined>(undefined);
  const editorRef = useRef<MonacoEditor | undefined>(undefined);
  const seq = useRef(0);

  useEffect(() => {
    registerCompletion();
    let cancelled = false;
    api.call('playbooks.get', { id: playbookId }).then(
      (r) => {
        if (cancelled) return;
        setOriginal(r.yaml);
        setText(r.yaml);
      },
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [api, playbookId]);

  // Validate after a pause; a late answer for older text is dropped.
  useEffect(() => {
    if (text === undefined) return;
    const my = ++seq.current;
    setState('checking');
    const t = setTimeout(() => {
      api.call('playbooks.validate', { yaml: text }).then(
        (r) => {
          if (my !== seq.current) return;
          setProblems(r.errors);
          setState(r.ok ? 'valid' : 'invalid');
          setError(undefined);
        },
        (e: unknown) => my === seq.current && setError(errorText(e)),
      );
    }, VALIDATE_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [api, text]);

  // Problems as markers (Monaco shows them as squiggles, in the overview ruler and on hover).
  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model) return;
    monaco.editor.setModelMarkers(
      model,
      'playbook-schema',
      problems.map((p) => {
        const line = Math.min(Math.max(1, p.line), model.getLineCount());
        const col = Math.max(1, p.column);
        const end = model.getLineMaxColumn(line);
        return { severity: monaco.MarkerSeverity.Error, message: p.message, startLineNumber: line, startColumn: Math.min(col, end), endLineNumber: line, endColumn: Math.max(end, col + 1) };
      }),
    );
  }, [problems, text]);

  // Uncontrolled on purpose: feeding `value` back from state would, while keystrokes are still arriving,
  // push an older text into the model and move the cursor to the end. The model is the source of truth.
  const onMount: OnMount = (ed) => {
    editorRef.current = ed;
    window.__casefilePlaybookEditor = ed;
  };
  useEffect(
    () => () => {
      if (window.__casefilePlaybookEditor === editorRef.current) window.__casefilePlaybookEditor = undefined;
    },
    [],
  );

  const reveal = (p: Problem): void => {
    const ed = editorRef.current;
    if (!ed) return;
    ed.revealLineInCenter(p.line);
    ed.setPosition({ lineNumber: p.line, column: Math.max(1, p.column) });
    ed.focus();
  };

  const download = (): void => {
    if (text === undefined) return;
    const u = URL.createObjectURL(new Blob([text], { type: 'application/yaml;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = u;
    a.download = `${playbookId}.yaml`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(u), 10_000);
  };

  const changed = text !== undefined && original !== undefined && text !== original;
  return (
    <section className="card playbook-editor" data-testid="playbook-editor" data-state={state}>
      <div className="row wrap">
        <h2 className="grow">
          Edit playbook <span className="mono">{visible(playbookId)}</span> <span className="muted small">(a copy: download it to keep it)</span>
        </h2>
        <span className={`badge ${state === 'valid' ? 'ok' : state === 'invalid' ? 'warn' : ''}`} data-testid="playbook-validity">
          {state === 'checking' ? 'checking…' : state === 'valid' ? 'valid' : `${problems.length} problem${problems.length === 1 ? '' : 's'}`}
        </span>
        <button onClick={() => original !== undefined && editorRef.current?.setValue(original)} disabled={!changed} data-testid="playbook-reset">
          Revert
        </button>
        <button onClick={download} disabled={text === undefined || state !== 'valid'} title={state === 'valid' ? 'Save the edited YAML' : 'Fix the problems first'} data-testid="playbook-download">
          Download YAML
        </button>
        <button onClick={onClose} data-testid="playbook-editor-close">
          Close
        </button>
      </div>
      {error && <p className="error">{error}</p>}
      <div className="playbook-editor-body">
        {text !== undefined && (
          <Editor
            height="60vh"
            language="yaml"
            path={`${MODEL_SCHEME}://edit/${playbookId}.yaml`}
            defaultValue={text}
            theme={ctx.theme === 'dark' ? 'vs-dark' : 'vs'}
            onChange={(v) => setText(v ?? '')}
            onMount={onMount}
            options={{ minimap: { enabled: false }, tabSize: 2, insertSpaces: true, links: false, wordBasedSuggestions: 'off', quickSuggestions: { other: true, strings: true, comments: false }, fontSize: 13, scrollBeyondLastLine: false }}
          />
        )}
      </div>
      {problems.length > 0 && (
        <ul className="problems" data-testid="playbook-problems">
          {problems.map((p, i) => (
            <li key={i}>
              <button className="link" onClick={() => reveal(p)} data-testid="playbook-problem" data-line={p.line}>
                line {p.line}:{p.column}
              </button>{' '}
              {visible(p.message)}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">
        Completion (Ctrl+Space): keys of the schema at the cursor's indentation, <span className="mono">captures</span> kinds, finding ids after{' '}
        <span className="mono">finding:</span>, and <span className="mono">{'{{parameter}}'}</span> inside <span className="mono">run</span> scripts.
      </p>
    </section>
  );
}
