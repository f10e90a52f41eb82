import type { ParsedEvent } from '../model/event';
import { parseDurationMs } from './duration';
import { checkHostSet, checkScalar } from './params';
import { RenderError, renderRun, remoteCommand, parseMissingCommands, type Bindings, type BoundValue, type Rendered } from './render';
import type { Condition, Conclusion, Playbook, Step } from './schema';
import { evaluateSelector, parseSelector } from './selector';

/**
 * One run of a playbook as a pure, deterministic state machine. The runner (electron/runner/) owns all
 * effects: it asks `nextActions(state)` what to do, performs it over SSH, and feeds back what happened
 * (`startAction`, `applyResult`, `applyRestoreResult`, `confirmStep`...). Every transition returns a new
 * state and appends to `log`; no clock is read here (callers pass `now`), so replaying the same inputs
 * gives the same run. Steps run one at a time, on all their hosts in parallel; a step's restore runs on
 * every host where the step started, whatever its outcome, before the run moves on.
 */

export type HostRole = 'client' | 'server' | 'both';
export interface RunHost {
  readonly name: string;
  readonly role?: HostRole;
}

export type StepStatus = 'pending' | 'awaiting-confirmation' | 'running' | 'ok' | 'failed' | 'timed-out' | 'cancelled' | 'skipped';
export type RestoreStatus = 'none' | 'pending' | 'running' | 'ok' | 'failed' | 'timed-out';
export const TERMINAL: ReadonlySet<StepStatus> = new Set(['ok', 'failed', 'timed-out', 'cancelled', 'skipped']);

export interface HostStepState {
  readonly host: string;
  readonly status: StepStatus;
  /** The exact command, fixed when the step became runnable (after a user edit, the edited text). */
  readonly command?: Rendered;
  readonly edited?: boolean;
  readonly startedAt?: bigint;
  readonly endedAt?: bigint;
  readonly exitCode?: number;
  /** Why it was skipped or failed, in words. */
  readonly reason?: string;
  /** Commands the requirement check found missing. */
  readonly missing?: readonly string[];
  /** A `sudo: true` step the SSH user could not run as root (sudo wants a password, or is not installed). */
  readonly needsRoot?: boolean;
  readonly restore: RestoreStatus;
  readonly restoreCommand?: Rendered;
}

export interface StepState {
  readonly id: string;
  readonly status: StepStatus;
  readonly hosts: readonly HostStepState[];
  /** Set when the step was left: where the run went and why. */
  readonly decision?: string;
}

export interface LogEntry {
  readonly seq: number;
  readonly at: bigint;
  readonly type: string;
  readonly stepId?: string;
  readonly host?: string;
  readonly detail?: string;
}

export type RunPhase = 'running' | 'cancelling' | 'done' | 'cancelled';

export interface RunState {
  readonly playbook: Playbook;
  readonly bindings: Bindings;
  readonly hosts: readonly RunHost[];
  readonly autoConfirm: boolean;
  readonly steps: readonly StepState[];
  /** Index of the current step; steps.length once the run is over. */
  readonly cursor: number;
  /** Values extracted per host: host -> name -> values. */
  readonly extracted: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Finding rule ids present in the case (kept current by the runner through setFindings/applyResult). */
  readonly findings: readonly string[];
  readonly phase: RunPhase;
  /** A playbook a `next:` branch pointed to. */
  readonly suggestedPlaybook?: string;
  readonly log: readonly LogEntry[];
}

export type Action =
  | { readonly type: 'confirm'; readonly stepId: string; readonly hosts: ReadonlyArray<{ readonly host: string; readonly command: Rendered }> }
  | {
      readonly type: 'exec' | 'restore';
      /** Pass to startAction. */
      readonly id: string;
      readonly stepId: string;
      readonly host: string;
      readonly command: Rendered;
      /** The one string for the remote shell: requirement check, sudo, then the command. */
      readonly remote: string;
      readonly timeoutMs: number;
      readonly sudo: boolean;
      readonly captures: Step['captures'];
      readonly intrusive: boolean;
    }
  | { readonly type: 'wait' }
  | { readonly type: 'done'; readonly phase: 'done' | 'cancelled' };

export interface ExecResult {
  readonly exitCode?: number;
  readonly timedOut?: boolean;
  readonly cancelled?: boolean;
  /** Transport failure (connection lost, could not start). */
  readonly error?: string;
  /** Enough of stderr to find the missing-command marker. */
  readonly stderr?: string;
}

export class RunInputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'RunInputError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// creation

/** Validate raw parameter values (from CLI `--param k=v` or the UI) against the playbook's typed definitions. */
export function bindParams(pb: Playbook, raw: Readonly<Record<string, unknown>>, hosts: readonly RunHost[]): Bindings {
  const problems: string[] = [];
  const names = hosts.map((h) => h.name);
  const out: Record<string, BoundValue> = {};
  for (const key of Object.keys(raw)) if (!pb.parameters[key]) problems.push(`unknown parameter "${key}" (playbook ${pb.id} takes ${Object.keys(pb.parameters).join(', ') || 'none'})`);
  for (const [name, def] of Object.entries(pb.parameters)) {
    const given = raw[name];
    const dflt = 'default' in def ? def.default : undefined;
    const value = given !== undefined && given !== '' ? given : dflt;
    if (value === undefined) {
      if (def.required ?? true) problems.push(`parameter ${name} (${def.type}) is required`);
      continue;
    }
    if (def.type === 'hosts') {
      const r = checkHostSet(value, names);
      if (!r.ok) problems.push(`parameter ${name} ${r.error}`);
      else out[name] = { def, value: r.value };
      continue;
    }
    const r = checkScalar(def, value, names);
    if (!r.ok) problems.push(`parameter ${name} ${r.error}`);
    else out[name] = { def, value: r.value };
  }
  if (problems.length > 0) throw new RunInputError(problems);
  return out;
}

export interface CreateRunOptions {
  /** Headless `--yes`: intrusive steps run without asking. */
  readonly autoConfirm?: boolean;
  readonly now?: bigint;
}

/** Start a run. Throws RunInputError when a parameter or the host list is invalid; nothing has run then. */
export function createRun(pb: Playbook, params: Readonly<Record<string, unknown>>, hosts: readonly RunHost[], opts: CreateRunOptions = {}): RunState {
  const problems: string[] = [];
  if (hosts.length === 0) problems.push('a run needs at least one host');
  const seen = new Set<string>();
  for (const h of hosts) {
    const r = checkScalar({ type: 'host' }, h.name);
    if (!r.ok) problems.push(`host ${r.error}`);
    if (seen.has(h.name)) problems.push(`host "${h.name}" is listed twice`);
    seen.add(h.name);
  }
  if (problems.length > 0) throw new RunInputError(problems);
  const bindings = bindParams(pb, params, hosts);
  const now = opts.now ?? 0n;
  const state: RunState = {
    playbook: pb,
    bindings,
    hosts,
    autoConfirm: opts.autoConfirm ?? false,
    steps: pb.steps.map((s) => ({ id: s.id, status: 'pending', hosts: [] })),
    cursor: 0,
    extracted: {},
    findings: [],
    phase: 'running',
    log: [{ seq: 0, at: now, type: 'run-created', detail: `${pb.id} on ${hosts.map((h) => h.name).join(', ')}` }],
  };
  return advance(state, now);
}

// ---------------------------------------------------------------------------------------------------------
// helpers

function log(s: RunState, at: bigint, type: string, extra: Omit<LogEntry, 'seq' | 'at' | 'type'> = {}): RunState {
  return { ...s, log: [...s.log, { seq: s.log.length, at, type, ...extra }] };
}

function stepDef(s: RunState, stepId: string): { step: Step; index: number } {
  const index = s.playbook.steps.findIndex((x) => x.id === stepId);
  if (index < 0) throw new Error(`no step "${stepId}" in playbook ${s.playbook.id}`);
  return { step: s.playbook.steps[index]!, index };
}

function aggregate(hosts: readonly HostStepState[], fallback: StepStatus): StepStatus {
  if (hosts.length === 0) return fallback;
  const order: StepStatus[] = ['running', 'awaiting-confirmation', 'pending', 'timed-out', 'failed', 'cancelled', 'ok', 'skipped'];
  for (const st of order) if (hosts.some((h) => h.status === st)) return st;
  return fallback;
}

function withHost(s: RunState, index: number, host: string, f: (h: HostStepState) => HostStepState): RunState {
  const st = s.steps[index]!;
  const i = st.hosts.findIndex((h) => h.host === host);
  if (i < 0) throw new Error(`step "${st.id}" does not run on host "${host}"`);
  const hosts = st.hosts.map((h, j) => (j === i ? f(h) : h));
  const steps = s.steps.map((x, j) => (j === index ? { ...x, hosts, status: aggregate(hosts, x.status) } : x));
  return { ...s, steps };
}

/** Hosts a step runs on, from its `on:`. */
export function targetHosts(s: RunState, step: Step): string[] {
  const all = s.hosts;
  switch (step.on) {
    case 'all':
      return all.map((h) => h.name);
    case 'clients':
      return all.filter((h) => (h.role ?? 'client') !== 'server').map((h) => h.name);
    case 'servers':
      return all.filter((h) => h.role === 'server' || h.role === 'both').map((h) => h.name);
    default: {
      const b = s.bindings[step.on];
      if (!b) return [];
      const v = b.value;
      return (Array.isArray(v) ? v : [String(v)]).filter((n) => all.some((h) => h.name === n));
    }
  }
}

/** Parameters plus extracted values as seen from one host: its own extracts, or the union of other hosts'
 * when this host never ran the extracting step (pids are host-local, a server address is not). */
export function bindingsFor(s: RunState, host: string): Bindings {
  const out: Record<string, BoundValue> = { ...s.bindings };
  for (const step of s.playbook.steps) {
    for (const x of step.extract) {
      const own = s.extracted[host]?.[x.name];
      let values: readonly string[] | undefined = own;
      if (values === undefined) {
        const union: string[] = [];
        for (const per of Object.values(s.extracted)) for (const v of per[x.name] ?? []) if (!union.includes(v)) union.push(v);
        if (Object.values(s.extracted).some((per) => per[x.name] !== undefined)) values = union;
      }
      if (values !== undefined && values.length > 0) out[x.name] = { def: { type: x.type }, value: values };
    }
  }
  return out;
}

function conditionHolds(s: RunState, c: Condition): boolean {
  const want = c.finding === undefined ? [] : Array.isArray(c.finding) ? c.finding : [c.finding];
  const findingOk = want.length === 0 || want.some((f) => s.findings.includes(f));
  const extractedOk = c.extracted === undefined || Object.values(s.extracted).some((per) => (per[c.extracted!]?.length ?? 0) > 0);
  return findingOk && extractedOk;
}

// ---------------------------------------------------------------------------------------------------------
// advancing

function activate(s: RunState, now: bigint): RunState {
  const index = s.cursor;
  const step = s.playbook.steps[index]!;
  const targets = targetHosts(s, step);
  if (targets.length === 0) {
    const steps = s.steps.map((x, j) => (j === index ? { ...x, status: 'skipped' as const, decision: `no host matches on: ${step.on}` } : x));
    return log({ ...s, steps }, now, 'step-skipped', { stepId: step.id, detail: `no host matches on: ${step.on}` });
  }
  const hosts: HostStepState[] = targets.map((host) => {
    const bindings = bindingsFor(s, host);
    try {
      const command = renderRun(step.run, bindings, { caseHosts: s.hosts.map((h) => h.name) });
      const restoreCommand = step.restore ? renderRun(step.restore, bindings, { caseHosts: s.hosts.map((h) => h.name) }) : undefined;
      const status: StepStatus = step.intrusive && !s.autoConfirm ? 'awaiting-confirmation' : 'pending';
      return { host, status, command, restore: 'none', ...(restoreCommand ? { restoreCommand } : {}) };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const missingValue = e instanceof RenderError && /has no value/.test(msg);
      return { host, status: missingValue ? 'skipped' : 'failed', reason: msg, restore: 'none', endedAt: now };
    }
  });
  const steps = s.steps.map((x, j) => (j === index ? { ...x, hosts, status: aggregate(hosts, 'pending') } : x));
  let out: RunState = log({ ...s, steps }, now, 'step-activated', { stepId: step.id, detail: targets.join(', ') });
  for (const h of hosts) if (h.status === 'skipped' || h.status === 'failed') out = log(out, now, `host-${h.status}`, { stepId: step.id, host: h.host, detail: h.reason });
  return out;
}

function stepSettled(st: StepState): boolean {
  if (st.hosts.length === 0) return TERMINAL.has(st.status);
  return st.hosts.every((h) => TERMINAL.has(h.status) && (h.restore === 'none' || h.restore === 'ok' || h.restore === 'failed' || h.restore === 'timed-out'));
}

function skipRange(s: RunState, from: number, to: number, why: string, now: bigint): RunState {
  let out = s;
  for (let i = from; i < to; i++) {
    const st = out.steps[i]!;
    if (st.status !== 'pending' || st.hosts.length > 0) continue;
    out = { ...out, steps: out.steps.map((x, j) => (j === i ? { ...x, status: 'skipped' as const, decision: why } : x)) };
    out = log(out, now, 'step-skipped', { stepId: st.id, detail: why });
  }
  return out;
}

function decide(s: RunState, now: bigint): RunState {
  const index = s.cursor;
  const step = s.playbook.steps[index]!;
  let target = index + 1;
  let why = 'next step';
  let suggested: string | undefined;
  for (const b of step.next ?? []) {
    if (b.if && !conditionHolds(s, b.if)) continue;
    const cond = b.if ? (b.if.finding !== undefined ? `finding ${[b.if.finding].flat().join(' or ')}` : `extracted ${b.if.extracted}`) : 'default';
    if (b.playbook !== undefined) {
      suggested = b.playbook;
      target = s.steps.length;
      why = `${cond}: continue with playbook ${b.playbook}`;
    } else if (b.goto === 'end') {
      target = s.steps.length;
      why = `${cond}: end`;
    } else if (b.goto !== undefined) {
      target = s.playbook.steps.findIndex((x) => x.id === b.goto);
      why = `${cond}: go to ${b.goto}`;
    }
    break;
  }
  let out: RunState = { ...s, steps: s.steps.map((x, j) => (j === index ? { ...x, decision: why } : x)) };
  out = log(out, now, 'step-left', { stepId: step.id, detail: why });
  out = skipRange(out, index + 1, target, `skipped by ${step.id}: ${why}`, now);
  return { ...out, cursor: target, ...(suggested ? { suggestedPlaybook: suggested } : {}) };
}

function anyBusy(s: RunState): boolean {
  return s.steps.some((st) => st.hosts.some((h) => h.status === 'running' || h.restore === 'pending' || h.restore === 'running'));
}

function advance(s0: RunState, now: bigint): RunState {
  let s = s0;
  for (let guard = 0; guard < s.steps.length * 3 + 3; guard++) {
    if (s.phase === 'done' || s.phase === 'cancelled') return s;
    if (s.phase === 'cancelling') {
      if (anyBusy(s)) return s;
      return log({ ...s, phase: 'cancelled', cursor: s.steps.length }, now, 'run-cancelled');
    }
    if (s.cursor >= s.steps.length) return log({ ...s, phase: 'done' }, now, 'run-done', s.suggestedPlaybook ? { detail: `suggested playbook ${s.suggestedPlaybook}` } : {});
    const st = s.steps[s.cursor]!;
    if (st.status === 'pending' && st.hosts.length === 0) {
      s = activate(s, now);
      continue;
    }
    if (!stepSettled(s.steps[s.cursor]!)) return s;
    s = decide(s, now);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// queries

function execAction(s: RunState, step: Step, h: HostStepState, type: 'exec' | 'restore'): Action {
  const command = type === 'exec' ? h.command! : h.restoreCommand!;
  const timeout = type === 'restore' && step.restore?.timeout ? step.restore.timeout : type === 'restore' ? '30s' : step.timeout;
  return {
    type,
    id: `${type}:${step.id}:${h.host}`,
    stepId: step.id,
    host: h.host,
    command,
    remote: remoteCommand(command, { sudo: step.sudo, requires: type === 'exec' ? step.requires : [] }),
    timeoutMs: parseDurationMs(timeout) ?? 30_000,
    sudo: step.sudo,
    captures: type === 'exec' ? step.captures : 'text',
    intrusive: step.intrusive,
  };
}

/** Everything that can be done now: confirmations to ask, commands to start, restores to run. */
export function nextActions(s: RunState): Action[] {
  if (s.phase === 'done' || s.phase === 'cancelled') return [{ type: 'done', phase: s.phase }];
  const out: Action[] = [];
  s.steps.forEach((st, i) => {
    const step = s.playbook.steps[i]!;
    const awaiting = st.hosts.filter((h) => h.status === 'awaiting-confirmation');
    if (awaiting.length > 0 && s.phase === 'running') out.push({ type: 'confirm', stepId: st.id, hosts: awaiting.map((h) => ({ host: h.host, command: h.command! })) });
    for (const h of st.hosts) {
      if (h.status === 'pending' && h.command && s.phase === 'running') out.push(execAction(s, step, h, 'exec'));
      if (h.restore === 'pending' && h.restoreCommand) out.push(execAction(s, step, h, 'restore'));
    }
  });
  if (out.length === 0) out.push({ type: 'wait' });
  return out;
}

/** The first of nextActions: restores first (they undo changes), then confirmations, then commands. */
export function nextAction(s: RunState): Action {
  const all = nextActions(s);
  return all.find((a) => a.type === 'restore') ?? all.find((a) => a.type === 'confirm') ?? all[0]!;
}

/** Conclusions that apply to the findings of a run (the defaults when no conditional one does). */
export function conclusionsFor(pb: Playbook, findings: readonly string[], extracted: RunState['extracted'] = {}): Conclusion[] {
  const probe = { findings, extracted } as unknown as RunState;
  const matched = pb.conclusions.filter((c) => c.if !== undefined && conditionHolds(probe, c.if));
  return matched.length > 0 ? matched : pb.conclusions.filter((c) => c.if === undefined);
}

export function conclusions(s: RunState): Conclusion[] {
  return conclusionsFor(s.playbook, s.findings, s.extracted);
}

// ---------------------------------------------------------------------------------------------------------
// transitions

/** The user confirmed an intrusive step (optionally with edited command text per host). */
export function confirmStep(s: RunState, stepId: string, now: bigint, edits: Readonly<Record<string, string>> = {}): RunState {
  const { index } = stepDef(s, stepId);
  let out = s;
  for (const h of s.steps[index]!.hosts) {
    if (h.status !== 'awaiting-confirmation') continue;
    const text = edits[h.host];
    out = withHost(out, index, h.host, (x) => ({ ...x, status: 'pending', ...(text !== undefined ? { command: { script: text, display: text }, edited: true } : {}) }));
    out = log(out, now, 'step-confirmed', { stepId, host: h.host, ...(text !== undefined ? { detail: `edited: ${text}` } : {}) });
  }
  return advance(out, now);
}

/** The user declined (or skipped) a step that has not started. */
export function skipStep(s: RunState, stepId: string, now: bigint, reason = 'skipped by the user', host?: string): RunState {
  const { index } = stepDef(s, stepId);
  let out = s;
  for (const h of s.steps[index]!.hosts) {
    if (host !== undefined && h.host !== host) continue;
    if (h.status !== 'pending' && h.status !== 'awaiting-confirmation') continue;
    out = withHost(out, index, h.host, (x) => ({ ...x, status: 'skipped', reason, endedAt: now }));
    out = log(out, now, 'host-skipped', { stepId, host: h.host, detail: reason });
  }
  return advance(out, now);
}

/** The user edited a command before it ran; the edit is kept and shown as such. */
export function editCommand(s: RunState, stepId: string, host: string, text: string, now: bigint): RunState {
  const { index } = stepDef(s, stepId);
  const out = withHost(s, index, host, (h) => {
    if (h.status !== 'pending' && h.status !== 'awaiting-confirmation') throw new Error(`step "${stepId}" on ${host} is ${h.status}: too late to edit`);
    return { ...h, command: { script: text, display: text }, edited: true };
  });
  return log(out, now, 'command-edited', { stepId, host, detail: text });
}

/** The runner started an action returned by nextActions (id "exec:step:host" or "restore:step:host"). */
export function startAction(s: RunState, actionId: string, now: bigint): RunState {
  const m = /^(exec|restore):([^:]+):(.+)$/.exec(actionId);
  if (!m) throw new Error(`bad action id "${actionId}"`);
  const [, type, stepId, host] = m as unknown as [string, 'exec' | 'restore', string, string];
  const { index } = stepDef(s, stepId);
  const out = withHost(s, index, host, (h) => {
    if (type === 'exec') {
      if (h.status !== 'pending') throw new Error(`step "${stepId}" on ${host} is ${h.status}, not pending`);
      return { ...h, status: 'running', startedAt: now };
    }
    if (h.restore !== 'pending') throw new Error(`restore of "${stepId}" on ${host} is ${h.restore}, not pending`);
    return { ...h, restore: 'running' };
  });
  return log(out, now, type === 'exec' ? 'step-started' : 'restore-started', { stepId, host, detail: (type === 'exec' ? out.steps[index]!.hosts.find((h) => h.host === host)!.command : undefined)?.display });
}

/** sudo's own complaint under `-n` when it would have to ask for a password (one line of its stderr). */
const SUDO_WANTS_PASSWORD = /^sudo: (a password is required|a terminal is required to read the password|no tty present and no askpass program specified)/m;
/** The shell's `exec sudo` failing because sudo is not installed (dash, bash and busybox wordings). */
const SUDO_NOT_INSTALLED = /(^|: )sudo: (command )?not found$/m;

function outcome(step: Step, r: ExecResult): { status: StepStatus; reason?: string; missing?: string[]; needsRoot?: boolean } {
  if (r.cancelled) return { status: 'cancelled', reason: 'cancelled' };
  if (r.timedOut) return { status: 'timed-out', reason: `no result within ${step.timeout}` };
  if (r.error !== undefined) return { status: 'failed', reason: r.error };
  // Checked before ok_exit: sudo refusing exits 1, which a step like `grep` may accept as "nothing found",
  // and that would read a command that never ran as a clean result.
  if (step.sudo && r.stderr !== undefined && r.exitCode !== 0) {
    if (SUDO_WANTS_PASSWORD.test(r.stderr)) {
      return { status: 'failed', needsRoot: true, reason: 'needs root: the SSH user is not root and sudo -n wants a password for it; connect as root, or allow this command with NOPASSWD in sudoers' };
    }
    if (r.exitCode === 127 && SUDO_NOT_INSTALLED.test(r.stderr)) {
      return { status: 'failed', needsRoot: true, reason: 'needs root: the SSH user is not root and sudo is not installed on this host; connect as root' };
    }
  }
  const missing = r.exitCode === 127 && r.stderr ? parseMissingCommands(r.stderr) : [];
  if (missing.length > 0) {
    const pkgs = missing.map((c) => `${c} (${step.requires.find((q) => q.command === c)?.package ?? 'unknown package'})`);
    return { status: 'failed', reason: `missing command ${pkgs.join(', ')}`, missing };
  }
  if (r.exitCode === undefined) return { status: 'failed', reason: 'no exit status' };
  if (step.ok_exit.includes(r.exitCode)) return { status: 'ok' };
  return { status: 'failed', reason: `exit status ${r.exitCode}` };
}

export interface ApplyOptions {
  /** Finding rule ids now present in the case (replaces the run's set). */
  readonly findings?: readonly string[];
}

/**
 * A step finished on a host. `events` are the events parsed from its artifact: the step's extract
 * selectors run over them (values failing their type are dropped, never rendered).
 */
export function applyResult(s: RunState, stepId: string, host: string, result: ExecResult, events: readonly ParsedEvent[], now: bigint, opts: ApplyOptions = {}): RunState {
  const { step, index } = stepDef(s, stepId);
  const o = outcome(step, result);
  let out = withHost(s, index, host, (h) => {
    if (h.status !== 'running') throw new Error(`step "${stepId}" on ${host} is ${h.status}, not running`);
    return {
      ...h,
      status: o.status,
      endedAt: now,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(o.missing ? { missing: o.missing } : {}),
      ...(o.needsRoot ? { needsRoot: true } : {}),
      restore: h.restoreCommand ? 'pending' : 'none',
    };
  });
  out = log(out, now, `step-${o.status}`, { stepId, host, ...(o.reason ? { detail: o.reason } : {}) });
  if (step.extract.length > 0) {
    const per: Record<string, readonly string[]> = { ...(out.extracted[host] ?? {}) };
    for (const x of step.extract) {
      const sel = parseSelector(x.select);
      if (!sel.ok) continue;
      const values: string[] = [];
      for (const v of evaluateSelector(sel.selector, events)) {
        const r = checkScalar({ type: x.type }, v);
        if (r.ok) values.push(r.value);
        else out = log(out, now, 'extract-rejected', { stepId, host, detail: `${x.name}: ${r.error}` });
      }
      per[x.name] = values;
      out = log(out, now, 'extracted', { stepId, host, detail: `${x.name} = ${values.join(' ') || '(none)'}` });
    }
    out = { ...out, extracted: { ...out.extracted, [host]: per } };
  }
  if (opts.findings) out = { ...out, findings: [...opts.findings] };
  return advance(out, now);
}

export function applyRestoreResult(s: RunState, stepId: string, host: string, result: ExecResult, now: bigint): RunState {
  const { step, index } = stepDef(s, stepId);
  const status: RestoreStatus = result.timedOut ? 'timed-out' : result.error === undefined && result.exitCode === 0 ? 'ok' : 'failed';
  const out = withHost(s, index, host, (h) => {
    if (h.restore !== 'running' && h.restore !== 'pending') throw new Error(`restore of "${step.id}" on ${host} is ${h.restore}`);
    return { ...h, restore: status };
  });
  return advance(log(out, now, `restore-${status}`, { stepId, host }), now);
}

/** The case's findings changed (the runner re-ran the rules). */
export function setFindings(s: RunState, findings: readonly string[], now: bigint): RunState {
  return advance(log({ ...s, findings: [...findings] }, now, 'findings', { detail: findings.join(', ') || '(none)' }), now);
}

/**
 * Cancel the run: nothing new starts; steps not yet started are cancelled; running commands must be
 * stopped by the runner, which reports them with applyResult({cancelled: true}); their restores still run.
 */
export function cancelRun(s: RunState, now: bigint): RunState {
  if (s.phase !== 'running') return s;
  let out: RunState = { ...s, phase: 'cancelling' };
  out = {
    ...out,
    steps: out.steps.map((st) => {
      const hosts = st.hosts.map((h) => (h.status === 'pending' || h.status === 'awaiting-confirmation' ? { ...h, status: 'cancelled' as const, reason: 'run cancelled', endedAt: now } : h));
      const status = st.hosts.length === 0 && st.status === 'pending' ? 'cancelled' : aggregate(hosts, st.status);
      return { ...st, hosts, status };
    }),
  };
  return advance(log(out, now, 'run-cancelling'), now);
}
