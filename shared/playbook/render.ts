import { durationSecondsText, parseDurationMs } from './duration';
import { checkHostSet, checkScalar, describeChars, type ValueDef } from './params';
import type { RunSpec, Step } from './schema';
import { checkScriptTemplate, findPlaceholders, shellJoin, shellQuote } from './template';

/**
 * Turning a step into the exact command that runs. Every value is re-validated against its type here (not
 * only when the user typed it), then placed by construction: in argv mode as (part of) one element, in
 * script mode as one single-quoted word. There is no path where an unvalidated string is concatenated into
 * shell text.
 */

/** A value bound to a name for rendering: its definition (type and constraints) and the raw value(s). */
export interface BoundValue {
  readonly def: ValueDef;
  /** One value, or several for `hosts` parameters and extracted lists. */
  readonly value: string | number | readonly string[];
}
export type Bindings = Readonly<Record<string, BoundValue>>;

export interface Rendered {
  readonly argv?: readonly string[];
  readonly script?: string;
  /** What the user is shown and what the remote shell receives (argv joined with quoting, or the script). */
  readonly display: string;
}

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

function valuesOf(name: string, b: BoundValue | undefined, caseHosts?: readonly string[]): readonly string[] {
  if (!b) throw new RenderError(`{{${name}}} has no value: the parameter was not given or nothing was extracted`);
  if (b.def.type === 'hosts') {
    const r = checkHostSet(b.value, caseHosts);
    if (!r.ok) throw new RenderError(`{{${name}}} ${r.error}`);
    return r.value;
  }
  const raw = Array.isArray(b.value) ? b.value : [b.value as string | number];
  const out: string[] = [];
  for (const v of raw) {
    const r = checkScalar(b.def, v, caseHosts);
    if (!r.ok) throw new RenderError(`{{${name}}} ${r.error}`);
    out.push(r.value);
  }
  return out;
}

function applyAccessor(name: string, def: ValueDef, accessor: 'value' | 'seconds', v: string): string {
  if (accessor === 'value') return v;
  if (def.type !== 'duration') throw new RenderError(`{{${name}.seconds}} applies to durations only (${name} is ${def.type})`);
  const ms = parseDurationMs(v);
  if (ms === undefined) throw new RenderError(`{{${name}}} is not a duration`);
  return durationSecondsText(ms);
}

export interface RenderOptions {
  /** Host names of the run, for `host`/`hosts` values. */
  readonly caseHosts?: readonly string[];
}

function renderArgv(argv: readonly string[], bindings: Bindings, opts: RenderOptions): string[] {
  return argv.map((element, idx) => {
    const { placeholders, problems } = findPlaceholders(element);
    if (problems.length > 0) throw new RenderError(`argv[${idx}]: ${problems[0]!.message}`);
    let out = '';
    let last = 0;
    for (const p of placeholders) {
      const b = bindings[p.name];
      const vals = valuesOf(p.name, b, opts.caseHosts);
      if (vals.length !== 1) {
        throw new RenderError(`argv[${idx}]: {{${p.name}}} holds ${vals.length} values; an argv placeholder must be exactly one element (use a script to loop)`);
      }
      const v = applyAccessor(p.name, b!.def, p.accessor, vals[0]!);
      // A value that starts an element and begins with "-" would be read as an option by the program.
      if (p.start === 0 && idx > 0 && v.startsWith('-')) {
        throw new RenderError(`argv[${idx}]: {{${p.name}}} value ${describeChars(v)} starts with "-" and would be taken as an option`);
      }
      out += element.slice(last, p.start) + v;
      last = p.end;
    }
    return out + element.slice(last);
  });
}

function renderScript(script: string, bindings: Bindings, opts: RenderOptions): string {
  const problems = checkScriptTemplate(script);
  if (problems.length > 0) throw new RenderError(`script: ${problems[0]!.message}`);
  const { placeholders } = findPlaceholders(script);
  let out = '';
  let last = 0;
  for (const p of placeholders) {
    const b = bindings[p.name];
    const vals = valuesOf(p.name, b, opts.caseHosts);
    if (b!.def.type === 'hosts') throw new RenderError(`{{${p.name}}} is a host set: use it in on:, not in a command`);
    const words = vals.map((v) => shellQuote(applyAccessor(p.name, b!.def, p.accessor, v)));
    // Several values (an extracted list) become several words: `for p in {{pids}}; do ...`.
    out += script.slice(last, p.start) + words.join(' ');
    last = p.end;
  }
  return out + script.slice(last);
}

/** Render a run spec (a step's run or restore). Throws RenderError with a message meant for the user. */
export function renderRun(run: RunSpec, bindings: Bindings, opts: RenderOptions = {}): Rendered {
  if ('argv' in run) {
    const argv = renderArgv(run.argv, bindings, opts);
    return { argv, display: shellJoin(argv) };
  }
  const script = renderScript(run.script, bindings, opts);
  return { script, display: script };
}

/** Render a step's command with typed validation of every value it uses. */
export function renderStep(step: Pick<Step, 'run'>, bindings: Bindings, opts: RenderOptions = {}): Rendered {
  return renderRun(step.run, bindings, opts);
}

/** Same as renderStep but never throws: for previews in the UI. */
export function tryRenderStep(step: Pick<Step, 'run'>, bindings: Bindings, opts: RenderOptions = {}): { ok: true; rendered: Rendered } | { ok: false; error: string } {
  try {
    return { ok: true, rendered: renderStep(step, bindings, opts) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Marker the requirement check prints on stderr; `parseMissingCommands` reads it back. */
export const MISSING_MARKER = 'casefile-missing-commands:';

/**
 * The single string to hand to the remote shell (the SSH layer adds its own `timeout -s KILL`): a check
 * that the required commands exist (exit 127 with a marker line naming the missing ones, so a missing
 * tool becomes evidence instead of a confusing error), then the command, under `sudo -n` when asked.
 */
export function remoteCommand(rendered: Rendered, opts: { readonly sudo?: boolean; readonly requires?: ReadonlyArray<{ readonly command: string }> } = {}): string {
  const cmds = (opts.requires ?? []).map((r) => r.command).filter((c) => /^[A-Za-z0-9._+-]+$/.test(c));
  const check = cmds.length === 0 ? ''
    : `m=; for c in ${cmds.map(shellQuote).join(' ')}; do command -v "$c" >/dev/null 2>&1 || m="$m $c"; done; ` +
      `if [ -n "$m" ]; then echo "${MISSING_MARKER}$m" >&2; exit 127; fi; `;
  const body = rendered.argv ? shellJoin(rendered.argv) : `sh -c ${shellQuote(rendered.script ?? '')}`;
  // Scripts always run under `sh -c` so the user's login shell (bash, zsh, fish) never changes their meaning.
  // sudo only when not root already (many incident hosts are reached as root and have no sudo installed);
  // `-n` never prompts: a password requirement fails at once ("needs root") instead of hanging.
  const run = opts.sudo ? `if [ "$(id -u)" = 0 ]; then exec ${body}; else exec sudo -n ${body}; fi` : `exec ${body}`;
  return `${check}${run}`;
}

/** Commands named by the requirement check's marker line in stderr, if any. */
export function parseMissingCommands(stderr: string): string[] {
  const i = stderr.indexOf(MISSING_MARKER);
  if (i < 0) return [];
  const line = stderr.slice(i + MISSING_MARKER.length).split('\n')[0] ?? '';
  return line.split(/\s+/).filter((s) => /^[A-Za-z0-9._+-]+$/.test(s));
}
