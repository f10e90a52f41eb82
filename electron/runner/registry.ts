import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaybook } from '../../shared/playbook/load';
import type { Playbook } from '../../shared/playbook/schema';
import { bindParams, createRun, RunInputError } from '../../shared/playbook/state';
import { tryRenderStep } from '../../shared/playbook/render';
import { parseDurationMs } from '../../shared/playbook/duration';
import type { PlannedStep, PlaybookSummary } from '../../shared/api/contract';
import { RULE_IDS } from '../../shared/findings';

export function defaultPlaybookDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'playbooks');
}

export interface LoadedPlaybook {
  readonly playbook: Playbook;
  readonly file: string;
  readonly yaml: string;
  readonly sha256: string;
}

/** The playbooks on disk (YAML validated by the zod schema), reloaded on every call so edits show at once. */
export class PlaybookRegistry {
  readonly dir: string;
  constructor(dir?: string) {
    this.dir = dir ?? defaultPlaybookDir();
  }

  private files(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort()
      .map((f) => join(this.dir, f));
  }

  list(): PlaybookSummary[] {
    return this.files().map((file) => {
      const yaml = readFileSync(file, 'utf8');
      const r = loadPlaybook(yaml, file, { knownRules: new Set(RULE_IDS) });
      if (!r.ok) return { id: file.split('/').pop()!.replace(/\.ya?ml$/, ''), title: '(invalid playbook)', summary: '', symptoms: [], file, error: r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`).join('\n') };
      return { id: r.playbook.id, title: r.playbook.title, summary: r.playbook.summary, symptoms: [...r.playbook.symptoms], file };
    });
  }

  load(id: string): LoadedPlaybook {
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(id)) throw new Error(`invalid playbook id ${JSON.stringify(id)}`);
    for (const file of this.files()) {
      const yaml = readFileSync(file, 'utf8');
      const r = loadPlaybook(yaml, file, { knownRules: new Set(RULE_IDS) });
      if (r.ok && r.playbook.id === id) return { playbook: r.playbook, file, yaml, sha256: createHash('sha256').update(yaml).digest('hex') };
      if (!r.ok && file.endsWith(`/${id}.yaml`)) throw new Error(r.errors.map((e) => `${file}:${e.line}:${e.col}: ${e.message}`).join('\n'));
    }
    throw new Error(`no playbook ${JSON.stringify(id)} in ${this.dir} (have: ${this.list().map((p) => p.id).join(', ')})`);
  }

  get(id: string) {
    const lp = this.load(id);
    const summary = { id: lp.playbook.id, title: lp.playbook.title, summary: lp.playbook.summary, symptoms: [...lp.playbook.symptoms], file: lp.file };
    const parameters = Object.entries(lp.playbook.parameters).map(([name, def]) => ({
      name,
      type: def.type,
      description: def.description ?? '',
      default: 'default' in def ? def.default : undefined,
      values: def.type === 'enum' ? [...def.values] : undefined,
      required: def.required ?? !('default' in def && def.default !== undefined),
    }));
    return { summary, yaml: lp.yaml, parameters };
  }

  validate(yaml: string) {
    const r = loadPlaybook(yaml, '<editor>', { knownRules: new Set(RULE_IDS) });
    return r.ok ? { ok: true, errors: [] } : { ok: false, errors: r.errors.map((e) => ({ line: e.line, column: e.col, message: e.message })) };
  }

  /** The plan shown before a run: each step's reasoning and exact command with the given parameters. */
  plan(id: string, params: Record<string, string>, hostNames: readonly string[] = ['host']): PlannedStep[] {
    return planOf(this.load(id).playbook, params, hostNames);
  }
}

/** The plan of a playbook with these parameters and hosts (also for a past run, from the YAML it stored). */
export function planOf(playbook: Playbook, params: Record<string, string>, hostNames: readonly string[] = ['host']): PlannedStep[] {
  let bindingError: string | undefined;
  let bindings = {};
  try {
    bindings = bindParams(playbook, params, hostNames.map((name) => ({ name })));
  } catch (e) {
    bindingError = e instanceof RunInputError ? e.problems.join('; ') : (e as Error).message;
  }
  return playbook.steps.map((s) => {
    const r = tryRenderStep(s, bindings, { caseHosts: hostNames });
    return {
      stepKey: s.id,
      title: s.title,
      why: s.why,
      display: r.ok ? r.rendered.display : '(shown when its inputs are known)',
      intrusive: s.intrusive,
      timeoutMs: parseDurationMs(s.timeout) ?? 30_000,
      captures: s.captures,
      on: s.on,
      rulesIn: (s.rules_in ?? []).map((x) => x.text),
      rulesOut: (s.rules_out ?? []).map((x) => x.text),
      requires: s.requires.map((q) => ({ command: q.command, package: q.package })),
      hasRestore: s.restore !== undefined,
      ...(r.ok ? {} : { error: bindingError ?? r.error }),
    };
  });
}

export { createRun };
