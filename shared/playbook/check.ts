import { parseDurationMs } from './duration';
import { checkScalar } from './params';
import type { Condition, ParameterDef, Playbook, RestoreSpec, RunSpec } from './schema';
import { parseSelector } from './selector';
import { checkScriptTemplate, findPlaceholders } from './template';

/**
 * Cross-reference checks JSON Schema cannot express: ids unique, `goto` only forward (so every run ends),
 * placeholders bound to a parameter or to a value extracted by an earlier step, templates safe to fill,
 * selectors and defaults valid. Each issue carries the path of the YAML node to point at.
 */

export type IssuePath = ReadonlyArray<string | number>;
export interface Issue {
  readonly path: IssuePath;
  readonly message: string;
}

export const HOST_SELECTORS = ['all', 'clients', 'servers'] as const;

interface Scope {
  readonly params: Readonly<Record<string, ParameterDef>>;
  readonly extracts: ReadonlySet<string>;
}

function checkRun(run: RunSpec | RestoreSpec, base: IssuePath, scope: Scope, issues: Issue[]): void {
  const check = (template: string, path: IssuePath, argv: boolean): void => {
    const { placeholders, problems } = findPlaceholders(template);
    for (const p of problems) issues.push({ path, message: p.message });
    for (const p of placeholders) {
      const def = scope.params[p.name];
      if (!def && !scope.extracts.has(p.name)) {
        issues.push({ path, message: `{{${p.name}}} is neither a parameter nor a value extracted by an earlier step` });
        continue;
      }
      if (def?.type === 'hosts') issues.push({ path, message: `{{${p.name}}} is a host set: use it in on:, not inside a command` });
      if (p.accessor === 'seconds' && def?.type !== 'duration') issues.push({ path, message: `{{${p.name}.seconds}} applies to duration parameters only` });
      if (argv && !def && scope.extracts.has(p.name)) {
        issues.push({ path, message: `{{${p.name}}} is an extracted list: argv placeholders must be exactly one element; use a script to loop` });
      }
    }
    if (!argv) for (const p of checkScriptTemplate(template)) issues.push({ path, message: p.message });
  };
  if ('argv' in run) run.argv.forEach((a, i) => check(a, [...base, 'argv', i], true));
  else check(run.script, [...base, 'script'], false);
}

function checkCondition(cond: Condition | undefined, path: IssuePath, extracts: ReadonlySet<string>, knownRules: ReadonlySet<string> | undefined, issues: Issue[]): void {
  if (!cond) return;
  if (cond.finding === undefined && cond.extracted === undefined) issues.push({ path, message: 'a condition needs finding: or extracted:' });
  if (cond.extracted !== undefined && !extracts.has(cond.extracted)) issues.push({ path: [...path, 'extracted'], message: `no step extracts "${cond.extracted}" before this point` });
  if (knownRules && cond.finding !== undefined) {
    for (const f of Array.isArray(cond.finding) ? cond.finding : [cond.finding]) {
      if (!knownRules.has(f)) issues.push({ path: [...path, 'finding'], message: `unknown finding rule "${f}"` });
    }
  }
}

/** All cross-reference problems of a structurally valid playbook. `knownRules` enables rule-id checks. */
export function checkPlaybook(pb: Playbook, knownRules?: ReadonlySet<string>): Issue[] {
  const issues: Issue[] = [];
  for (const [name, def] of Object.entries(pb.parameters)) {
    if ('default' in def && def.default !== undefined) {
      const r = checkScalar(def, def.default);
      if (!r.ok) issues.push({ path: ['parameters', name, 'default'], message: `default ${r.error}` });
    }
    if (def.type === 'string') {
      try {
        new RegExp(def.pattern, 'u');
      } catch {
        issues.push({ path: ['parameters', name, 'pattern'], message: 'not a valid regular expression' });
      }
    }
    if (def.type === 'int' && def.min !== undefined && def.max !== undefined && def.min > def.max) {
      issues.push({ path: ['parameters', name], message: 'min is greater than max' });
    }
  }
  const stepIndex = new Map<string, number>();
  pb.steps.forEach((s, i) => {
    if (stepIndex.has(s.id)) issues.push({ path: ['steps', i, 'id'], message: `duplicate step id "${s.id}"` });
    else stepIndex.set(s.id, i);
  });
  const extracts = new Set<string>();
  pb.steps.forEach((step, i) => {
    const base: IssuePath = ['steps', i];
    const scope: Scope = { params: pb.parameters, extracts: new Set(extracts) };
    const onDef = pb.parameters[step.on];
    if (!(HOST_SELECTORS as readonly string[]).includes(step.on) && !(onDef && (onDef.type === 'host' || onDef.type === 'hosts'))) {
      issues.push({ path: [...base, 'on'], message: `on: must be all, clients, servers or a host/hosts parameter, got "${step.on}"` });
    }
    checkRun(step.run, [...base, 'run'], scope, issues);
    if (step.restore) checkRun(step.restore, [...base, 'restore'], scope, issues);
    const tms = parseDurationMs(step.timeout);
    if (tms !== undefined && tms > 3_600_000) issues.push({ path: [...base, 'timeout'], message: 'a step deadline above 1h is not a deadline' });
    step.extract.forEach((x, j) => {
      const r = parseSelector(x.select);
      if (!r.ok) issues.push({ path: [...base, 'extract', j, 'select'], message: r.error });
      if (pb.parameters[x.name]) issues.push({ path: [...base, 'extract', j, 'name'], message: `"${x.name}" is already a parameter` });
    });
    for (const x of step.extract) extracts.add(x.name);
    (step.next ?? []).forEach((b, j) => {
      const bp: IssuePath = [...base, 'next', j];
      if ((b.goto === undefined) === (b.playbook === undefined)) issues.push({ path: bp, message: 'a branch needs exactly one of goto: or playbook:' });
      if (b.if === undefined && j !== (step.next?.length ?? 0) - 1) issues.push({ path: bp, message: 'a branch without if: is the default and must come last' });
      if (b.goto !== undefined && b.goto !== 'end') {
        const t = stepIndex.get(b.goto);
        if (t === undefined) issues.push({ path: [...bp, 'goto'], message: `no step "${b.goto}"` });
        else if (t <= i) issues.push({ path: [...bp, 'goto'], message: `goto must jump forward (step "${b.goto}" is not after "${step.id}")` });
      }
      checkCondition(b.if, [...bp, 'if'], extracts, knownRules, issues);
    });
    for (const key of ['rules_in', 'rules_out'] as const) {
      (step[key] ?? []).forEach((r, j) => {
        if (knownRules) for (const f of r.findings ?? []) if (!knownRules.has(f)) issues.push({ path: [...base, key, j, 'findings'], message: `unknown finding rule "${f}"` });
      });
    }
  });
  const cids = new Set<string>();
  pb.conclusions.forEach((c, i) => {
    if (cids.has(c.id)) issues.push({ path: ['conclusions', i, 'id'], message: `duplicate conclusion id "${c.id}"` });
    cids.add(c.id);
    checkCondition(c.if, ['conclusions', i, 'if'], extracts, knownRules, issues);
  });
  return issues;
}
