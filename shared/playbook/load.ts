import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { checkPlaybook, type IssuePath } from './check';
import { PlaybookSchema, type Playbook } from './schema';

/**
 * Reading a playbook file: YAML 1.2 with source positions (the `yaml` package's LineCounter), structure by
 * the zod schema, cross references by check.ts. Every problem comes back as `file:line:col: path: message`,
 * pointing at the offending node (or the key, for an unknown key), so an editor can underline it.
 */

export interface PlaybookError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** steps[2].timeout */
  readonly path: string;
  readonly message: string;
}

export type LoadResult = { readonly ok: true; readonly playbook: Playbook } | { readonly ok: false; readonly errors: readonly PlaybookError[] };

export function formatError(e: PlaybookError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

export function formatPath(path: IssuePath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p) ? `${out ? '.' : ''}${p}` : `[${JSON.stringify(p)}]`;
  return out;
}

/** The deepest YAML node along `path`; for `key` true, the key node of the last segment. */
function nodeAt(doc: Document, path: IssuePath, key = false): Node | undefined {
  let cur: unknown = doc.contents;
  let found: Node | undefined = doc.contents ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isMap(cur)) {
      const pair = cur.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return found;
      if (key && i === path.length - 1 && isScalar(pair.key)) return pair.key;
      cur = pair.value;
    } else if (isSeq(cur) && typeof seg === 'number') {
      cur = cur.items[seg];
    } else return found;
    if (cur && typeof cur === 'object' && 'range' in cur) found = cur as Node;
  }
  return found;
}

function position(doc: Document, lc: LineCounter, path: IssuePath, key = false): { line: number; col: number } {
  const n = nodeAt(doc, path, key);
  const offset = n?.range?.[0] ?? 0;
  const p = lc.linePos(offset);
  return { line: p.line, col: p.col };
}

/** zod's messages, reworded where the default would not help a person editing YAML. */
function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
      if (issue.path[issue.path.length - 1] === 'run' || issue.path[issue.path.length - 1] === 'restore') return 'expected either argv: [program, args...] or script: "..." (not both)';
      return issue.message;
    default:
      return issue.message;
  }
}

export function loadPlaybook(text: string, file = '<playbook>', opts: { readonly knownRules?: ReadonlySet<string> } = {}): LoadResult {
  const lc = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    // The yaml parser recurses per nesting level: a line of thousands of "key: key: ..." overflows the stack
    // (RangeError, found by fuzzing). That is a bad document, not a crash.
    return { ok: false, errors: [{ file, line: 1, col: 1, path: '', message: `YAML: cannot parse (${e instanceof Error ? e.message : String(e)})` }] };
  }
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const p = lc.linePos(e.pos[0]);
        return { file, line: p.line, col: p.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, col: 1, path: '', message: `YAML: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  const parsed = PlaybookSchema.safeParse(data);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const isKey = issue.code === 'unrecognized_keys';
      const fullPath = isKey ? [...path, issue.keys[0]!] : path;
      const pos = position(doc, lc, fullPath, isKey);
      return { file, ...pos, path: formatPath(path), message: issueMessage(issue) };
    });
    return { ok: false, errors: sortErrors(errors) };
  }
  const issues = checkPlaybook(parsed.data, opts.knownRules);
  if (issues.length > 0) {
    return { ok: false, errors: sortErrors(issues.map((i) => ({ file, ...position(doc, lc, i.path), path: formatPath(i.path), message: i.message }))) };
  }
  return { ok: true, playbook: parsed.data };
}

function sortErrors(errors: PlaybookError[]): PlaybookError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Load or throw an Error whose message lists every problem, one per line. */
export function loadPlaybookOrThrow(text: string, file = '<playbook>', opts: { readonly knownRules?: ReadonlySet<string> } = {}): Playbook {
  const r = loadPlaybook(text, file, opts);
  if (!r.ok) throw new Error(r.errors.map(formatError).join('\n'));
  return r.playbook;
}
