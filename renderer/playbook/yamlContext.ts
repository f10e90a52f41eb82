/**
 * Where the cursor is in a playbook's YAML, from indentation alone (no parser: the text being edited is often
 * not valid YAML). Good enough for block-style YAML as playbooks are written: `key: value`, `- ` sequence
 * items, `|`/`>` block scalars. Flow collections (`[a, b]`, `{a: b}`) are treated as plain values.
 */

/** A path from the document root: mapping keys, and '[]' for "an item of this sequence". */
export type YamlPath = readonly string[];

export type CursorContext =
  /** Typing a key of the mapping at `path` (the prefix typed so far is `typed`). */
  | { readonly mode: 'key'; readonly path: YamlPath; readonly typed: string; readonly siblings: readonly string[] }
  /** Typing the scalar value of `path` (its last segment is the key, or '[]' for a sequence item). */
  | { readonly mode: 'value'; readonly path: YamlPath; readonly typed: string }
  /** Inside a block scalar (`script: |`) whose key path is `path`. */
  | { readonly mode: 'block'; readonly path: YamlPath };

interface LineShape {
  readonly blank: boolean;
  readonly indent: number;
  /** Column of the first `- ` on the line, if the line opens a sequence item. */
  readonly dash: number | undefined;
  /** Column where the line's content (after any dashes) starts. */
  readonly keyIndent: number;
  readonly key: string | undefined;
  /** The text after `key:` (trimmed), or the whole content when there is no key. */
  readonly value: string;
}

// A plain or quoted mapping key followed by ':' and a space or the end of the line (YAML 1.2 §7.4 implicit keys).
const KEY_RE = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:,[\]{}][^:#]*?|\$schema)\s*:(?:\s+|$)(.*)$/;

function shape(line: string): LineShape {
  const m = /^(\s*)((?:-(?:\s+|$))*)(.*)$/.exec(line)!;
  const indent = m[1]!.length;
  const dashes = m[2]!;
  const rest = m[3]!;
  const blank = rest.trim() === '' || rest.trimStart().startsWith('#');
  const km = KEY_RE.exec(rest);
  const key = km ? unquote(km[1]!.trim()) : undefined;
  return { blank: blank && dashes === '', indent, dash: dashes ? indent : undefined, keyIndent: indent + dashes.length, key, value: stripComment(km ? km[2]! : rest).trim() };
}

function unquote(k: string): string {
  if ((k.startsWith('"') && k.endsWith('"')) || (k.startsWith("'") && k.endsWith("'"))) return k.slice(1, -1);
  return k;
}

function stripComment(v: string): string {
  if (v.startsWith('"') || v.startsWith("'")) return v;
  const i = v.search(/\s#/);
  return i < 0 ? v : v.slice(0, i);
}

const isBlockIndicator = (v: string): boolean => /^[|>][+-]?[0-9]?\s*$/.test(v);

/**
 * The path of the mapping that holds a key at `keyIndent`, looking upward from line `from` (exclusive).
 * `inItem` says the key sits in a sequence item opened at column `itemDash` on the cursor's own line.
 */
function parentPath(lines: readonly string[], from: number, keyIndent: number, itemDash: number | undefined): string[] {
  const path: string[] = [];
  let want = keyIndent;
  // Looking for the key that owns a sequence whose dashes sit at column `want`.
  let seqOwner = false;
  if (itemDash !== undefined) {
    path.unshift('[]');
    want = itemDash;
    seqOwner = true;
  }
  for (let i = from - 1; i >= 0; i--) {
    const s = shape(lines[i]!);
    if (s.blank) continue;
    if (seqOwner) {
      // "steps:" owns "  - id:" (deeper) and also "- id:" at its own column (YAML's compact sequences).
      if (s.dash === undefined && s.key !== undefined && s.keyIndent <= want && s.value === '') {
        path.unshift(s.key);
        want = s.keyIndent;
        seqOwner = false;
      } else if (s.keyIndent < want && s.dash !== undefined && s.key !== undefined && s.value === '') {
        // "- run:" owning a nested sequence: the key, then the outer item.
        path.unshift(s.key);
        path.unshift('[]');
        want = s.dash;
      } else if (s.keyIndent < want) {
        break; // malformed: give up with what we have
      }
      continue;
    }
    if (s.keyIndent < want) {
      if (s.key === undefined) break;
      path.unshift(s.key);
      if (s.dash !== undefined) {
        path.unshift('[]');
        want = s.dash;
        seqOwner = true;
      } else {
        want = s.keyIndent;
      }
    } else if (s.keyIndent === want && s.dash !== undefined && s.dash < want) {
      // The first line of our mapping opened the sequence item ("  - id: x" above "    title: y").
      path.unshift('[]');
      want = s.dash;
      seqOwner = true;
    }
  }
  return path;
}

/** Keys already present in the mapping the cursor is in (same indentation, same item), to avoid offering them twice. */
function siblingKeys(lines: readonly string[], at: number, keyIndent: number, opensItem: boolean): string[] {
  const out: string[] = [];
  if (!opensItem) {
    for (let j = at - 1; j >= 0; j--) {
      const s = shape(lines[j]!);
      if (s.blank) continue;
      if (s.keyIndent < keyIndent) break;
      if (s.keyIndent === keyIndent && s.key !== undefined) out.push(s.key);
      if (s.keyIndent === keyIndent && s.dash !== undefined && s.dash < keyIndent) break; // our item's first line
    }
  }
  for (let j = at + 1; j < lines.length; j++) {
    const s = shape(lines[j]!);
    if (s.blank) continue;
    if (s.keyIndent < keyIndent || (s.dash !== undefined && s.dash < keyIndent)) break; // parent, or the next item
    if (s.keyIndent === keyIndent && s.key !== undefined) out.push(s.key);
  }
  return out;
}

/** What the cursor is editing. `line` is 0-based, `column` is the 0-based offset in that line. */
export function cursorContext(lines: readonly string[], line: number, column: number): CursorContext {
  const text = lines[line] ?? '';
  const prefix = text.slice(0, column);
  const cur = shape(prefix);
  const contentIndent = cur.keyIndent;

  // Inside a block scalar? The nearest less-indented non-blank line above ends with `key: |`.
  const lineIndent = /^\s*/.exec(text)![0].length;
  const effIndent = text.trim() === '' ? Math.max(lineIndent, prefix.length) : lineIndent;
  for (let i = line - 1; i >= 0; i--) {
    const s = shape(lines[i]!);
    if (s.blank) continue;
    if (s.keyIndent < effIndent || (s.dash !== undefined && s.dash < effIndent && s.keyIndent <= effIndent)) {
      if (s.key !== undefined && isBlockIndicator(s.value) && s.keyIndent < effIndent) {
        return { mode: 'block', path: [...parentPath(lines, i, s.keyIndent, s.dash), s.key] };
      }
      break;
    }
  }

  const itemDash = cur.dash;
  if (cur.key !== undefined && /:\s/.test(prefix.slice(contentIndent))) {
    const parent = parentPath(lines, line, contentIndent, itemDash);
    return { mode: 'value', path: [...parent, cur.key], typed: cur.value };
  }
  const parent = parentPath(lines, line, contentIndent, itemDash);
  const typed = prefix.slice(contentIndent);
  // "- foo" with no colon may be a scalar item of a sequence rather than a key: the caller decides with the schema.
  return { mode: 'key', path: parent, typed, siblings: siblingKeys(lines, line, contentIndent, itemDash !== undefined).filter((k) => k !== typed) };
}

/** Top-level `parameters:` names and `extract:` names: what `{{name}}` may refer to in a run script. */
export function templateNames(lines: readonly string[]): string[] {
  const names = new Set<string>();
  let inParams = false;
  let childIndent: number | undefined;
  for (const line of lines) {
    const s = shape(line);
    if (s.blank) continue;
    if (s.keyIndent === 0) {
      inParams = s.key === 'parameters';
      childIndent = undefined;
      continue;
    }
    if (inParams && s.key !== undefined && s.dash === undefined) {
      childIndent ??= s.keyIndent;
      if (s.keyIndent === childIndent && /^[a-z][a-z0-9_]{0,39}$/.test(s.key)) names.add(s.key);
    }
    // extract items: "- name: pids" (the only `name:` key in the playbook schema).
    if (s.key === 'name' && /^[a-z][a-z0-9_]{0,39}$/.test(s.value)) names.add(s.value);
  }
  return [...names];
}
