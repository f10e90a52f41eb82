import type { EventName, EventPayload, PlannedStep } from '../../shared/api/contract';
import type { ParsedEvent, EventKind, Level } from '../../shared/model/event';
import {
  applyRestoreResult,
  applyResult,
  cancelRun,
  confirmStep,
  createRun,
  nextActions,
  RunInputError,
  skipStep,
  startAction,
  type Action,
  type HostRole,
  type RunState,
} from '../../shared/playbook/state';
import type { Store, HostRow, StepStatus } from '../store/store';
import { ingest } from '../ingest/run';
import { analyzeCase } from '../findings/analyze';
import type { PlaybookRegistry } from './registry';
import { SessionPool, type ExecOutcome } from './sessions';
import type { HostKeyQuestion } from './hostkeys';

export interface RunnerOptions {
  readonly store: Store;
  readonly playbooks: PlaybookRegistry;
  readonly home?: string | undefined;
  /** File-backed stores parse large outputs in a worker thread. */
  readonly dbFile?: string | undefined;
  readonly emit: <E extends EventName>(e: E, p: EventPayload<E>) => void;
  readonly onUnknownHostKey: (q: HostKeyQuestion) => Promise<boolean>;
  readonly askPassphrase?: (keyPath: string) => Promise<string | undefined>;
  readonly askPassword?: (prompt: string) => Promise<string | undefined>;
  /** Print live output (headless CLI). */
  onOutput?: (o: { host: string; stepKey: string; stream: 'stdout' | 'stderr'; chunk: Buffer }) => void;
  readonly onLog?: (line: string) => void;
  /** Most commands in flight at once across a run's hosts (a fan-out to 200 hosts goes 16 at a time). */
  readonly maxParallel?: number;
}

interface ActiveRun {
  readonly runId: number;
  readonly caseId: number;
  readonly hosts: ReadonlyMap<string, HostRow>;
  state: RunState;
  readonly inFlight: Map<string, { abort: AbortController; promise: Promise<void> }>;
  wake: () => void;
  readonly finished: Promise<void>;
  edits: Map<string, string>;
}

const now = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** Drives runs of the pure state machine (shared/playbook/state.ts) over SSH; owns every effect. */
export class Runner {
  private readonly runs = new Map<number, ActiveRun>();
  readonly sessions: SessionPool;

  constructor(private readonly o: RunnerOptions) {
    this.o = { ...o };
    this.sessions = new SessionPool({
      home: o.home,
      onUnknownHostKey: o.onUnknownHostKey,
      askPassphrase: o.askPassphrase,
      askPassword: o.askPassword,
      onConnected: (host, info) => {
        o.store.recordHostConnection(host.id, info);
        o.emit('case.updated', { caseId: host.caseId });
      },
    });
  }

  /** Where live output goes besides the `step.output` event (the headless CLI prints it). */
  setOutputSink(fn: RunnerOptions['onOutput']): void {
    this.o.onOutput = fn;
  }

  async dispose(): Promise<void> {
    for (const r of this.runs.values()) this.cancel(r.runId);
    await Promise.allSettled([...this.runs.values()].map((r) => r.finished));
    await this.sessions.dispose();
  }

  async testHost(host: HostRow): Promise<void> {
    await this.sessions.reconnect(host);
  }

  /** Start a run; returns at once with its id (the run goes on in the background). */
  async start(a: {
    caseId: number;
    playbookId: string;
    hostIds: readonly number[];
    params: Record<string, string>;
    autoConfirm: boolean;
    headless: boolean;
    /** host id -> role in this run (default client). */
    roles?: Readonly<Record<string, HostRole>>;
  }): Promise<number> {
    const { store } = this.o;
    const lp = this.o.playbooks.load(a.playbookId);
    const hosts = a.hostIds.map((id) => {
      const h = store.getHost(id);
      if (!h || h.caseId !== a.caseId) throw new Error(`host ${id} is not in case ${a.caseId}`);
      return h;
    });
    let state: RunState;
    try {
      state = createRun(lp.playbook, a.params, hosts.map((h) => ({ name: h.name, role: a.roles?.[String(h.id)] ?? 'client' })), { autoConfirm: a.autoConfirm, now: now() });
    } catch (e) {
      if (e instanceof RunInputError) throw new Error(`cannot start ${a.playbookId}: ${e.problems.join('; ')}`);
      throw e;
    }
    const row = store.createRun({ caseId: a.caseId, playbookId: a.playbookId, playbookSha256: lp.sha256, playbookYaml: lp.yaml, params: a.params, hostIds: a.hostIds, headless: a.headless });
    let resolveFinished!: () => void;
    const finished = new Promise<void>((r) => (resolveFinished = r));
    const run: ActiveRun = { runId: row.id, caseId: a.caseId, hosts: new Map(hosts.map((h) => [h.name, h])), state, inFlight: new Map(), wake: () => {}, finished, edits: new Map() };
    this.runs.set(row.id, run);
    void this.loop(run).finally(resolveFinished);
    return row.id;
  }

  /** Wait until a run has finished (headless mode). */
  async wait(runId: number): Promise<void> {
    await this.runs.get(runId)?.finished;
  }

  runState(runId: number): RunState | undefined {
    return this.runs.get(runId)?.state;
  }

  state(runId: number): { awaiting: { stepKey: string; title: string; display: string; intrusive: boolean; why: string }[]; plan: PlannedStep[] } | undefined {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    const pb = run.state.playbook;
    const awaiting = nextActions(run.state)
      .filter((x): x is Extract<Action, { type: 'confirm' }> => x.type === 'confirm')
      .map((x) => {
        const step = pb.steps.find((s) => s.id === x.stepId)!;
        return { stepKey: x.stepId, title: step.title, display: x.hosts.map((h) => (x.hosts.length > 1 ? `# ${h.host}\n${h.command.display}` : h.command.display)).join('\n'), intrusive: step.intrusive, why: step.why };
      });
    const plan = this.o.playbooks.plan(pb.id, Object.fromEntries(Object.entries(run.state.bindings).map(([k, v]) => [k, Array.isArray(v.value) ? v.value.join(',') : String(v.value)])), [...run.hosts.keys()]);
    // Show the commands as the run fixed them (after extraction and edits), not the generic preview.
    const fixed = plan.map((p) => {
      const st = run.state.steps.find((s) => s.id === p.stepKey);
      const cmds = st?.hosts.filter((h) => h.command).map((h) => h.command!.display) ?? [];
      return cmds.length ? { ...p, display: [...new Set(cmds)].join('\n'), error: undefined } : p;
    });
    return { awaiting, plan: fixed.map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as PlannedStep) };
  }

  confirm(runId: number, stepKey: string, accept: boolean, editedCommand?: string): boolean {
    const run = this.runs.get(runId);
    if (!run) return false;
    const t = now();
    try {
      if (!accept) run.state = skipStep(run.state, stepKey, t, 'declined by the user');
      else {
        const edits: Record<string, string> = {};
        if (editedCommand !== undefined) {
          const st = run.state.steps.find((s) => s.id === stepKey);
          for (const h of st?.hosts ?? []) if (h.status === 'awaiting-confirmation' && editedCommand !== h.command?.display) edits[h.host] = editedCommand;
        }
        run.state = confirmStep(run.state, stepKey, t, edits);
      }
    } catch (e) {
      this.o.onLog?.(`confirm ${stepKey}: ${(e as Error).message}`);
      return false;
    }
    run.wake();
    this.o.emit('run.updated', { runId, caseId: run.caseId });
    return true;
  }

  cancel(runId: number): boolean {
    const run = this.runs.get(runId);
    if (!run) return false;
    run.state = cancelRun(run.state, now());
    for (const [id, f] of run.inFlight) if (id.startsWith('exec:')) f.abort.abort();
    run.wake();
    this.o.emit('run.updated', { runId, caseId: run.caseId });
    return true;
  }

  private async loop(run: ActiveRun): Promise<void> {
    const { store } = this.o;
    let stalls = 0;
    try {
      for (;;) {
        const actions = nextActions(run.state);
        const done = actions.find((x) => x.type === 'done');
        if (done && run.inFlight.size === 0) {
          store.finishRun(run.runId, done.phase === 'cancelled' ? 'cancelled' : run.state.steps.some((s) => s.status === 'failed' || s.status === 'timed-out') ? 'failed' : 'done');
          break;
        }
        let started = 0;
        const limit = this.o.maxParallel ?? 16;
        for (const a of actions) {
          if (a.type !== 'exec' && a.type !== 'restore') continue;
          if (run.inFlight.has(a.id)) continue;
          if (run.inFlight.size >= limit) break;
          run.state = startAction(run.state, a.id, now());
          const abort = new AbortController();
          const promise = this.perform(run, a, abort.signal)
            .catch((e: unknown) => this.o.onLog?.(`internal error in ${a.id}: ${(e as Error).stack ?? e}`))
            .finally(() => {
              run.inFlight.delete(a.id);
              run.wake();
            });
          run.inFlight.set(a.id, { abort, promise });
          started++;
        }
        if (started > 0) this.o.emit('run.updated', { runId: run.runId, caseId: run.caseId });
        if (actions.some((x) => x.type === 'confirm')) this.o.emit('run.updated', { runId: run.runId, caseId: run.caseId });
        const idle = started === 0 && run.inFlight.size === 0 && !actions.some((x) => x.type === 'confirm' || x.type === 'done');
        if (idle && ++stalls > 3) {
          // Nothing running, nothing to confirm, nothing new to start: the run cannot progress. End it rather than spin.
          this.o.onLog?.(`run ${run.runId} made no progress (${run.state.steps.map((x) => `${x.id}:${x.status}`).join(', ')}); stopping it`);
          store.finishRun(run.runId, 'failed');
          break;
        }
        if (!idle) stalls = 0;
        await new Promise<void>((resolve) => {
          run.wake = resolve;
          if (idle) setImmediate(resolve);
        });
      }
    } catch (e) {
      this.o.onLog?.(`run ${run.runId} stopped: ${(e as Error).message}`);
      store.finishRun(run.runId, 'failed');
    } finally {
      this.o.emit('run.updated', { runId: run.runId, caseId: run.caseId });
    }
  }

  /** Execute one action on its host: record the step, stream output into artifacts, parse, re-run rules. */
  private async perform(run: ActiveRun, a: Extract<Action, { type: 'exec' | 'restore' }>, signal: AbortSignal): Promise<void> {
    const host = run.hosts.get(a.host)!;
    const step = run.state.playbook.steps.find((s) => s.id === a.stepId)!;
    // What undoes this step on this host, kept on the step row from the start: if Casefile dies before the restore
    // runs, the recovery at the next start can still name the host left changed and the command to run.
    const restoreCmd = a.type === 'exec' ? run.state.steps.find((s) => s.id === a.stepId)?.hosts.find((h) => h.host === a.host)?.restoreCommand?.display : undefined;
    const restore = restoreCmd !== undefined && a.sudo ? `sudo ${restoreCmd}` : restoreCmd;
    const res = await this.execRecorded({
      caseId: run.caseId,
      runId: run.runId,
      host,
      stepKey: a.type === 'restore' ? `${a.stepId}.restore` : a.stepId,
      title: a.type === 'restore' ? `Restore after: ${step.title}` : step.title,
      isRestore: a.type === 'restore',
      intrusive: a.intrusive,
      script: a.remote,
      display: a.command.display,
      timeoutMs: a.timeoutMs,
      kind: a.type === 'restore' ? 'text' : a.captures,
      restore,
      signal,
    });
    const t = now();
    const r = { exitCode: res.exitCode, timedOut: res.status === 'timed-out', cancelled: res.status === 'cancelled', error: res.error, stderr: res.stderrHead };
    if (a.type === 'restore') {
      run.state = applyRestoreResult(run.state, a.stepId, a.host, r, t);
    } else {
      const findings = [...new Set(this.o.store.listFindings(run.caseId).map((f) => f.rule))];
      run.state = applyResult(run.state, a.stepId, a.host, r, res.events, t, { findings });
      // The playbook's verdict is the step's status: `ok_exit` makes grep's exit 1 or a capture's 137 a success,
      // and a missing command reads as such instead of "exit 127".
      const verdict = run.state.steps.find((x) => x.id === a.stepId)?.hosts.find((h) => h.host === a.host);
      if (verdict && (verdict.status === 'ok' || verdict.status === 'failed') && (verdict.status !== res.status || (verdict.reason !== undefined && res.error === undefined))) {
        const error = verdict.status === 'failed' ? (verdict.reason ?? res.error) : res.error;
        this.o.store.finishStep(res.stepId, { status: verdict.needsRoot ? 'needs-root' : verdict.status, exitCode: res.exitCode, signal: res.signal, startedNs: res.startedNs, endedNs: res.endedNs, stuck: res.stuck, error, command: res.remoteCommand });
      }
    }
    this.o.emit('run.updated', { runId: run.runId, caseId: run.caseId });
  }

  /** `casefile exec` / `exec.run`: one ad-hoc command recorded as a step, with the same evidence and deadlines. */
  async execAdhoc(a: { caseId: number; host: HostRow; argv: readonly string[]; timeoutMs: number; kind: string; wait: boolean; signal?: AbortSignal }): Promise<number> {
    let stepId = 0;
    const p = this.execRecorded({
      caseId: a.caseId,
      host: a.host,
      stepKey: 'exec',
      title: `exec ${a.argv[0]}`,
      isRestore: false,
      intrusive: false,
      argv: a.argv,
      timeoutMs: a.timeoutMs,
      kind: a.kind,
      signal: a.signal,
      onStep: (id) => (stepId = id),
    });
    if (a.wait) {
      const r = await p;
      return r.stepId;
    }
    // Return as soon as the step row exists.
    for (let i = 0; i < 200 && stepId === 0; i++) await new Promise((r) => setTimeout(r, 5));
    void p.catch(() => {});
    return stepId;
  }

  /** `files.fetch`: copy a remote file over SFTP into the case as an artifact, recorded as a step. */
  async fetchFile(a: { caseId: number; host: HostRow; path: string; kind: string; timeoutMs: number; wait: boolean }): Promise<number> {
    const { store, emit } = this.o;
    const display = `sftp get ${a.path}`;
    const step = store.createStep({ caseId: a.caseId, hostId: a.host.id, stepKey: 'fetch', title: `fetch ${a.path}`, isRestore: false, intrusive: false, command: display, display, timeoutMs: a.timeoutMs });
    emit('case.updated', { caseId: a.caseId });
    const work = (async () => {
      const res = await this.sessions.fetch(a.host, a.path, {
        timeoutMs: a.timeoutMs,
        begin: (clock) =>
          store.beginArtifact({ caseId: a.caseId, hostId: a.host.id, stepId: step.id, name: a.path.split('/').pop() || 'file', stream: 'file', kind: a.kind, source: 'ssh', argv: display, clockOffsetNs: clock?.offsetNs, clockUncertaintyNs: clock?.uncertaintyNs, bootTimeNs: clock?.bootTimeNs }),
      });
      store.finishStep(step.id, { status: res.status, exitCode: res.exitCode, startedNs: res.startedNs, endedNs: res.endedNs, error: res.error, command: res.remoteCommand });
      if (res.stdoutArtifact !== undefined) {
        try {
          await ingest(store, res.stdoutArtifact, { dbFile: this.o.dbFile, kind: a.kind });
        } catch (e) {
          store.markUnparsed(res.stdoutArtifact, 'failed', (e as Error).message);
        }
      }
      store.replaceFindings(a.caseId, analyzeCase(store, a.caseId));
      emit('case.updated', { caseId: a.caseId });
    })();
    if (a.wait) await work;
    else void work.catch((e: unknown) => this.o.onLog?.(`fetch ${a.path}: ${(e as Error).message}`));
    return step.id;
  }

  async execRecorded(a: {
    caseId: number;
    runId?: number;
    host: HostRow;
    stepKey: string;
    title: string;
    isRestore: boolean;
    intrusive: boolean;
    script?: string;
    argv?: readonly string[];
    display?: string;
    timeoutMs: number;
    kind: string;
    restore?: string | undefined;
    signal?: AbortSignal | undefined;
    onStep?: (id: number) => void;
  }): Promise<ExecOutcome & { stepId: number; events: ParsedEvent[] }> {
    const { store, emit } = this.o;
    const display = a.display ?? a.argv?.join(' ') ?? a.script ?? '';
    const step = store.createStep({ runId: a.runId, caseId: a.caseId, hostId: a.host.id, stepKey: a.stepKey, title: a.title, isRestore: a.isRestore, intrusive: a.intrusive, command: display, display, timeoutMs: a.timeoutMs, restore: a.restore });
    a.onStep?.(step.id);
    emit('case.updated', { caseId: a.caseId });
    const res = await this.sessions.exec(a.host, a.argv ? { argv: a.argv } : { script: a.script ?? '' }, {
      timeoutMs: a.timeoutMs,
      signal: a.signal,
      beginArtifacts: (clock) => {
        const common = { caseId: a.caseId, hostId: a.host.id, stepId: step.id, source: 'ssh' as const, argv: a.argv ? [...a.argv] : a.script, clockOffsetNs: clock?.offsetNs, clockUncertaintyNs: clock?.uncertaintyNs, bootTimeNs: clock?.bootTimeNs };
        return {
          stdout: store.beginArtifact({ ...common, name: `${a.stepKey}.stdout`, stream: 'stdout', kind: a.kind }),
          stderr: store.beginArtifact({ ...common, name: `${a.stepKey}.stderr`, stream: 'stderr', kind: 'text' }),
        };
      },
      onOutput: (stream, chunk) => {
        this.o.onOutput?.({ host: a.host.name, stepKey: a.stepKey, stream, chunk });
        emit('step.output', { runId: a.runId, stepId: step.id, caseId: a.caseId, stream, text: chunk.toString('utf8') });
      },
    });
    const status: StepStatus = res.status;
    store.finishStep(step.id, { status, exitCode: res.exitCode, signal: res.signal, startedNs: res.startedNs, endedNs: res.endedNs, stuck: res.stuck, error: res.error, command: res.remoteCommand });
    // Parse what we got (also partial output of a timed-out step), then re-run the rules.
    let events: ParsedEvent[] = [];
    for (const artId of [res.stdoutArtifact, res.stderrArtifact]) {
      if (artId === undefined) continue;
      try {
        await ingest(store, artId, { dbFile: this.o.dbFile });
      } catch (e) {
        store.markUnparsed(artId, 'failed', (e as Error).message);
      }
    }
    if (res.stdoutArtifact !== undefined) {
      events = store.listEvents(a.caseId, { artifactId: res.stdoutArtifact, limit: 100_000 }).map((e) => ({
        kind: e.kind as EventKind,
        ts: e.tsNs,
        tsRaw: e.tsRaw,
        clock: e.clock as ParsedEvent['clock'],
        durationNs: e.durationNs,
        line: e.line,
        endLine: e.endLine,
        pid: e.pid,
        level: e.level as Level | undefined,
        text: e.text,
        data: e.data,
      }));
    }
    try {
      store.replaceFindings(a.caseId, analyzeCase(store, a.caseId));
    } catch (e) {
      this.o.onLog?.(`findings: ${(e as Error).message}`);
    }
    emit('case.updated', { caseId: a.caseId });
    return { ...res, stepId: step.id, events };
  }
}
