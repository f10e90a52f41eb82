import { cursorContext, templateNames, type YamlPath } from './yamlContext';

/**
 * Completion for the playbook editor, from the JSON Schema generated from the zod schema (playbooks/
 * playbook.schema.json) plus what the schema cannot know: finding rule ids (shared/findings RULES) and the
 * playbook's own parameter names for `{{name}}` in run scripts. React- and Monaco-free so it is unit-tested.
 */

/** The subset of JSON Schema that zod's toJSONSchema emits for our schema. */
export interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
  readonly oneOf?: readonly SchemaNode[];
  readonly allOf?: readonly SchemaNode[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly required?: readonly string[];
  readonly default?: unknown;
}

export interface RuleInfo {
  readonly id: string;
  readonly title: string;
}

export type CompletionKind = 'property' | 'value' | 'rule' | 'parameter';

export interface CompletionItem {
  readonly label: string;
  readonly kind: CompletionKind;
  /** Text inserted in place of [replaceFrom, cursor) on the cursor's line (0-based columns). */
  readonly insertText: string;
  readonly replaceFrom: number;
  readonly detail?: string | undefined;
  readonly documentation?: string | undefined;
}

/** Alternatives flattened: anyOf/oneOf/allOf branches are all candidates for completion. */
function alternatives(n: SchemaNode): SchemaNode[] {
  const out: SchemaNode[] = [n];
  for (const xs of [n.anyOf, n.oneOf, n.allOf]) if (xs) for (const x of xs) out.push(...alternatives(x));
  return out;
}

/** The schema nodes that may describe `path` (several when the schema branches). */
export function resolvePath(root: SchemaNode, path: YamlPath): SchemaNode[] {
  let cur: SchemaNode[] = alternatives(root);
  for (const seg of path) {
    const next: SchemaNode[] = [];
    for (const n of cur) {
      if (seg === '[]') {
        if (n.items) next.push(...alternatives(n.items));
      } else if (n.properties && Object.hasOwn(n.properties, seg)) {
        next.push(...alternatives(n.properties[seg]!));
      } else if (typeof n.additionalProperties === 'object') {
        // A map with free keys (parameters: NAME -> definition).
        next.push(...alternatives(n.additionalProperties));
      }
    }
    cur = next;
    if (cur.length === 0) break;
  }
  return cur;
}

const RULE_PATTERN = /^\^\[a-z0-9\]\+/;

function isRuleRef(nodes: readonly SchemaNode[], key: string | undefined): boolean {
  if (key === 'finding' || key === 'findings') return true;
  return nodes.some((n) => n.pattern !== undefined && RULE_PATTERN.test(n.pattern) && n.pattern.includes('\\.'));
}

function typeIs(n: SchemaNode, t: string): boolean {
  return n.type === t || (Array.isArray(n.type) && n.type.includes(t));
}

function scalarValues(nodes: readonly SchemaNode[]): string[] {
  const out = new Set<string>();
  for (const n of nodes) {
    if (n.enum) for (const v of n.enum) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.add(String(v));
    if (n.const !== undefined && (typeof n.const === 'string' || typeof n.const === 'number' || typeof n.const === 'boolean')) out.add(String(n.const));
    if (typeIs(n, 'boolean')) (out.add('true'), out.add('false'));
  }
  return [...out];
}

/** Does a property hold a nested mapping or list (so the key is completed as `key:` + newline)? */
function isContainer(n: SchemaNode): boolean {
  return alternatives(n).some((a) => typeIs(a, 'object') || typeIs(a, 'array'));
}

/**
 * Completions at (line, column) (0-based) of `text`. Offers: property names of the mapping at the cursor's
 * indentation (minus those present), enum/const values of the key being filled (step `captures`, parameter
 * `type`, booleans), finding rule ids after `finding:`/`findings:`, and `{{name}}` parameters in run scripts.
 */
export function completionsAt(schema: SchemaNode, text: string, line: number, column: number, rules: readonly RuleInfo[]): CompletionItem[] {
  const lines = text.split(/\r?\n/);
  const ctx = cursorContext(lines, line, column);
  const prefix = (lines[line] ?? '').slice(0, column);

  // `{{name}}` inside a script (block or single line) or an argv element.
  const inRun = ctx.path.includes('run') || ctx.path.includes('restore');
  const last = ctx.path[ctx.path.length - 1];
  const scriptish = inRun && (ctx.mode === 'block' || (ctx.mode === 'value' && (last === 'script' || last === '[]' || ctx.path.includes('argv'))) || (ctx.mode === 'key' && ctx.path.includes('argv')));
  if (scriptish) {
    const open = /\{\{?\s*([a-z0-9_]*)$/.exec(prefix);
    if (!open) return [];
    return templateNames(lines).map((n) => ({ label: `{{${n}}}`, kind: 'parameter', insertText: `{{${n}}}`, replaceFrom: column - open[0].length, detail: 'parameter (quoted as one word)' }));
  }
  if (ctx.mode === 'block') return [];

  if (ctx.mode === 'value') {
    // Flow style: `if: { finding: nfs.` completes the inner key's value; `[a, b` completes the last item.
    let path = ctx.path;
    let key = last;
    const flowKey = /\{[^}]*?([A-Za-z_$][\w-]*)\s*:\s*[^,{}:]*$/.exec(ctx.typed);
    if (flowKey) {
      path = [...path, flowKey[1]!];
      key = flowKey[1];
    }
    const inList = /\[[^\]]*$/.test(ctx.typed);
    let nodes = resolvePath(schema, path);
    if (inList) nodes = [...nodes, ...resolvePath(schema, [...path, '[]'])];
    const token = /[^\s[\],{}:]*$/.exec(ctx.typed)![0];
    const from = column - token.length;
    if (isRuleRef(nodes, key)) return ruleItems(rules, from);
    return scalarValues(nodes).map((v) => ({ label: v, kind: 'value', insertText: v, replaceFrom: from, detail: key }));
  }

  // Key mode: the mapping's properties; or, in a sequence of scalars, its values.
  const nodes = resolvePath(schema, ctx.path);
  const from = column - ctx.typed.length;
  if (last === '[]') {
    const owner = ctx.path[ctx.path.length - 2];
    if (isRuleRef(nodes, owner)) return ruleItems(rules, from);
    const values = scalarValues(nodes);
    if (values.length > 0 && !nodes.some((n) => n.properties)) return values.map((v) => ({ label: v, kind: 'value', insertText: v, replaceFrom: from, detail: owner }));
  }
  const seen = new Set(ctx.siblings);
  const props = new Map<string, SchemaNode>();
  for (const n of nodes) for (const [k, v] of Object.entries(n.properties ?? {})) if (!props.has(k)) props.set(k, v);
  const required = new Set(nodes.flatMap((n) => n.required ?? []));
  const out: CompletionItem[] = [];
  for (const [k, v] of props) {
    if (seen.has(k)) continue;
    const desc = alternatives(v).find((a) => a.description)?.description;
    out.push({ label: k, kind: 'property', insertText: isContainer(v) ? `${k}:` : `${k}: `, replaceFrom: from, detail: required.has(k) ? 'required' : undefined, documentation: desc });
  }
  return out;
}

function ruleItems(rules: readonly RuleInfo[], from: number): CompletionItem[] {
  return rules.map((r) => ({ label: r.id, kind: 'rule', insertText: r.id, replaceFrom: from, detail: r.title }));
}
