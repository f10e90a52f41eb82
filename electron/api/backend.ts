import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { API, type EventName, type EventPayload, type Method, type Output, type ParsedInput, type PlannedStep } from '../../shared/api/contract';
import { Store, type AnnotationRow, type ArtifactRow, type EventRow, type FindingRow, type HostRow, type RunRow, type StepRow } from '../store/store';
import type { Db } from '../store/db';
import { jsonOr } from '../store/rows';
import { currentOwner, ownerAlive } from '../store/owner';
import { ingest } from '../ingest/run';
import { buildReportModel, renderMarkdown } from '../export/report';
import { renderHtml } from '../export/html';
import { correctedTime, hostCorrectionNs } from '../timeline/correct';
import { ApiError } from './errors';
import { packetAt, exportPcapSlice } from './packets';
import { searchCases, exportBundleBase64, importBundleBase64, saveSearch, listSearches, deleteSearch, rpcChart, mountstatsChart } from './library';
import { readLines, timelineRange, timelineBuckets, relatedEvents, searchCase } from './queries';
import { analyzeCase } from '../findings/analyze';
import { planOf, PlaybookRegistry } from '../runner/registry';
import { loadPlaybook } from '../../shared/playbook/load';
import type { Playbook } from '../../shared/playbook/schema';
import { Runner, type RunnerOptions } from '../runner/runner';
import { HostKeyPrompter, type HostKeyQuestion } from '../runner/hostkeys';
import { SecretPrompter, type SecretVault } from '../runner/secrets';
import { listConfigHosts, resolveDestination } from '../ssh/config';
import { AuthenticationError, ConnectTimeoutError, HostKeyChangedError, HostKeyNotTrustedError, HostKeyRevokedError, HostUnreachableError, SshError } from '../ssh/errors';

type Handler<M extends Method> = (input: ParsedInput<M>) => Promise<Output<M>> | Output<M>;
export type Handlers = { [M in Method]: Handler<M> };

/** SQLite ran out of room: better-sqlite3 sets the code; an ingest worker passes on only the message. */
const isDiskFull = (e: unknown): boolean => e instanceof Error && ((e as Error & { code?: unknown }).code === 'SQLITE_FULL' || /database or disk is full/.test(e.message));

/** What Backend.recoverInterrupted found and did (ids). */
export interface RecoveryResult {
  /** Artifacts parsed again. */
  readonly reingested: readonly number[];
  /** Artifacts marked failed (cut-off imports, re-parses that kept killing the process). */
  readonly failed: readonly number[];
  /** Runs ended as 'interrupted'. */
  readonly interruptedRuns: readonly number[];
  /** Steps marked 'interrupted'. */
  readonly interruptedSteps: readonly number[];
}

/** Noted on an artifact before recoverInterrupted parses it again; after this many notes it gives up. */
const RECOVERY_NOTE = 'Casefile stopped while parsing this artifact; parsing it again';
const MAX_RECOVERY_TRIES = 2;

const s = (v: bigint | undefined): string | undefined => (v === undefined ? undefined : v.toString());
const strip = <T extends object>(o: T): T => {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
};

export { ApiError };

export interface BackendOptions {
  readonly db: Db;
  /** Path of the database file (the SQL console opens it read-only). */
  readonly dbFile?: string;
  readonly playbookDir?: string;
  /** SSH settings come from this home (defaults to the user's). */
  readonly home?: string;
  readonly author?: string;
  /** Headless front ends (the CLI) answer host-key, passphrase and password questions themselves. */
  readonly prompts?: {
    readonly onUnknownHostKey?: (q: HostKeyQuestion) => Promise<boolean>;
    readonly askPassphrase?: (keyPath: string) => Promise<string | undefined>;
    readonly askPassword?: (prompt: string) => Promise<string | undefined>;
  };
  readonly onOutput?: RunnerOptions['onOutput'];
  /** Desktop only: where secrets the user asked to remember are kept (Electron safeStorage). */
  readonly vault?: SecretVault;
  readonly onLog?: (line: string) => void;
}

/** The one implementation of the API contract. Transports (IPC, browser mode, CLI) only parse and forward. */
export class Backend {
  readonly store: Store;
  readonly bus = new EventEmitter();
  readonly playbooks: PlaybookRegistry;
  readonly hostKeys: HostKeyPrompter;
  readonly secrets: SecretPrompter;
  readonly runner: Runner;
  readonly handlers: Handlers;

  constructor(readonly opts: BackendOptions) {
    this.store = new Store(opts.db);
    this.bus.setMaxListeners(100);
    this.playbooks = new PlaybookRegistry(opts.playbookDir);
    this.hostKeys = new HostKeyPrompter((p) => this.emit('hostkey.prompt', p));
    this.secrets = new SecretPrompter((p) => this.emit('secret.prompt', p), opts.vault);
    this.runner = new Runner({
      store: this.store,
      playbooks: this.playbooks,
      home: opts.home,
      dbFile: opts.dbFile,
      emit: (e, p) => this.emit(e, p),
      onUnknownHostKey: opts.prompts?.onUnknownHostKey ?? ((info) => this.hostKeys.ask(info)),
      askPassphrase: opts.prompts?.askPassphrase ?? ((keyPath) => this.secrets.ask('passphrase', keyPath, `Passphrase for key ${keyPath}`)),
      askPassword: opts.prompts?.askPassword ?? ((prompt) => this.secrets.ask('password', prompt, prompt)),
      onOutput: opts.onOutput,
      onLog: opts.onLog,
    });
    this.handlers = this.makeHandlers();
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.bus.emit('event', event, payload);
  }

  onEvent(fn: (event: EventName, payload: unknown) => void): () => void {
    this.bus.on('event', fn);
    return () => this.bus.off('event', fn);
  }

  /** Validate the input with the contract's schema, run the handler, validate the output. */
  async call(method: string, rawInput: unknown): Promise<unknown> {
    if (!Object.hasOwn(API, method)) throw new ApiError(`unknown method ${JSON.stringify(method).slice(0, 80)}`, 'unknown-method');
    const m = method as Method;
    const parsed = API[m].input.safeParse(rawInput ?? {});
    if (!parsed.success) throw new ApiError(`invalid input for ${m}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, 'invalid-input');
    const handler = this.handlers[m] as (i: unknown) => Promise<unknown> | unknown;
    const out = await handler(parsed.data);
    return API[m].output.parse(out);
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
    this.bus.removeAllListeners();
  }

  // ---- mapping rows to the contract -----------------------------------------------------------
  private caseOf(id: number) {
    const c = this.store.listCases().find((x) => x.id === id);
    if (!c) throw new ApiError(`case ${id} not found`, 'not-found');
    return c;
  }

  private writableCase(id: number) {
    const c = this.caseOf(id);
    if (c.readOnly) throw new ApiError(`case ${c.name} is read-only (opened from the library)`, 'read-only');
    return c;
  }

  hostOut(h: HostRow) {
    return strip({
      id: h.id,
      name: h.name,
      destination: h.destination,
      hostname: h.hostname,
      port: h.port,
      user: h.user,
      jumpChain: [...h.jumpChain],
      hostKeyType: h.hostKeyType,
      hostKeyFingerprint: h.hostKeyFingerprint,
      clockOffsetNs: s(h.clockOffsetNs),
      clockUncertaintyNs: s(h.clockUncertaintyNs),
      clockMeasuredNs: s(h.clockMeasuredNs),
      bootTimeNs: s(h.bootTimeNs),
      clockAdjustNs: h.clockAdjustNs.toString(),
    });
  }

  runOut(r: RunRow) {
    return strip({ id: r.id, playbookId: r.playbookId, params: { ...r.params }, hostIds: [...r.hostIds], status: r.status, headless: r.headless, startedNs: r.startedNs.toString(), endedNs: s(r.endedNs) });
  }

  stepOut(st: StepRow) {
    return strip({
      id: st.id,
      runId: st.runId,
      hostId: st.hostId,
      stepKey: st.stepKey,
      title: st.title,
      isRestore: st.isRestore,
      intrusive: st.intrusive,
      command: st.command,
      display: st.display,
      status: st.status,
      exitCode: st.exitCode,
      signal: st.signal,
      timeoutMs: st.timeoutMs,
      startedNs: s(st.startedNs),
      endedNs: s(st.endedNs),
      stuck: st.stuck,
      error: st.error,
      restore: st.restore,
    });
  }

  artifactOut(a: ArtifactRow) {
    return strip({
      id: a.id,
      hostId: a.hostId,
      stepId: a.stepId,
      name: a.name,
      stream: a.stream,
      kind: a.kind,
      source: a.source,
      argv: typeof a.argv === 'string' ? a.argv : a.argv === undefined ? undefined : [...(a.argv as readonly string[])],
      exitCode: a.exitCode,
      startedNs: s(a.startedNs),
      endedNs: s(a.endedNs),
      clockOffsetNs: s(a.clockOffsetNs),
      bootTimeNs: s(a.bootTimeNs),
      size: a.size,
      sha256: a.sha256,
      complete: a.complete,
      isText: a.isText,
      invalidUtf8: a.invalidUtf8,
      lineCount: a.lineCount,
      parseStatus: a.parseStatus,
      parseWarnings: [...a.parseWarnings],
      eventCount: a.eventCount,
    });
  }

  eventOut(e: EventRow, hosts: ReadonlyMap<number, HostRow>) {
    const host = e.hostId !== undefined ? hosts.get(e.hostId) : undefined;
    return strip({
      id: e.id,
      artifactId: e.artifactId,
      hostId: e.hostId,
      kind: e.kind,
      tsNs: s(e.tsNs),
      correctedNs: s(correctedTime(e, host)),
      tsRaw: e.tsRaw,
      clock: e.clock,
      durationNs: s(e.durationNs),
      line: e.line,
      endLine: e.endLine,
      pid: e.pid,
      level: e.level,
      text: e.text,
      data: { ...e.data },
    });
  }

  findingOut(f: FindingRow) {
    return strip({ id: f.id, rule: f.rule, title: f.title, severity: f.severity, explanation: f.explanation, next: f.next, hostId: f.hostId, firstNs: s(f.firstNs), lastNs: s(f.lastNs), evidence: [...f.evidence] });
  }

  annotationOut(a: AnnotationRow) {
    return strip({
      id: a.id,
      target: a.target,
      eventId: a.eventId,
      artifactId: a.artifactId,
      line: a.line,
      startNs: s(a.startNs),
      endNs: s(a.endNs),
      body: a.body,
      marker: a.marker,
      starred: a.starred,
      author: a.author,
      createdNs: a.createdNs.toString(),
      updatedNs: a.updatedNs.toString(),
      history: a.history.map((h) => strip({ body: h.body, marker: h.marker, starred: h.starred, editedNs: h.editedNs.toString() })),
    });
  }

  caseSummaryOut(c: ReturnType<Store['listCases']>[number]) {
    return strip({ id: c.id, name: c.name, title: c.title, createdNs: c.createdNs.toString(), readOnly: c.readOnly, hostCount: c.hostCount, artifactCount: c.artifactCount, eventCount: c.eventCount, findingCount: c.findingCount, lastNs: s(c.lastNs) });
  }

  hostMap(caseId: number): Map<number, HostRow> {
    return new Map(this.store.listHosts(caseId).map((h) => [h.id, h]));
  }

  /** Run the findings rules over a case and store the result. */
  analyze(caseId: number): FindingRow[] {
    const findings = analyzeCase(this.store, caseId);
    this.store.replaceFindings(caseId, findings);
    return this.store.listFindings(caseId);
  }

  /** Store bytes as an artifact and parse them (in a worker when large), then re-run the rules. */
  async importArtifact(caseId: number, name: string, bytes: Uint8Array, opts: { kind?: string; hostName?: string; bootTimeNs?: bigint } = {}): Promise<ArtifactRow> {
    const host = opts.hostName ? this.store.upsertHost(caseId, { name: opts.hostName, destination: '' }) : undefined;
    const w = this.store.beginArtifact({ caseId, hostId: host?.id, name, kind: opts.kind ?? 'auto', source: 'import', bootTimeNs: opts.bootTimeNs });
    const id = w.id;
    try {
      w.write(bytes);
      w.finish();
      await ingest(this.store, id, {
        dbFile: this.opts.dbFile,
        kind: opts.kind ?? 'auto',
        bootTimeNs: opts.bootTimeNs,
        onProgress: (done, total) => this.emit('ingest.progress', { caseId, artifactId: id, done, total }),
      });
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      // The ingest rolled back whole (and a cut-off store left no events); say so on the artifact, so it does not
      // sit 'pending' as if still in progress. Best effort: on a full disk even this update may not fit.
      const why = `${name} could not be imported: the disk holding the Casefile data is full (SQLITE_FULL). Free some space and import it again.`;
      try {
        this.store.markUnparsed(id, 'failed', why);
      } catch {
        // recoverInterrupted reports it at the next start
      }
      this.emit('case.updated', { caseId });
      throw new ApiError(why, 'disk-full');
    }
    this.analyze(caseId);
    this.emit('case.updated', { caseId });
    return this.store.getArtifact(id)!;
  }

  /**
   * Artifacts a previous process left 'pending' because it was killed (SIGKILL, power loss) while storing or
   * parsing them. Each ingest is one transaction, so the kill rolled it back whole; without this they stayed
   * 'pending' forever and looked as if still in progress. Called once at startup by the long-lived front ends
   * (desktop, browser mode): bytes stored completely are parsed again (an ingest replaces an artifact's events,
   * so parsing twice is harmless); bytes cut off mid-collection by a step are parsed as far as they go (the
   * ingest warns that the artifact is incomplete); an import cut off while its bytes were being stored is marked
   * failed with the reason, as its events would cover an arbitrary prefix of the file.
   */
  recoverInterrupted(): Promise<RecoveryResult> {
    // One at a time: the startup call and one triggered by the run view (runs.state) must not parse twice.
    this.recovering ??= this.recoverNow().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private recovering: Promise<RecoveryResult> | undefined;

  private async recoverNow(): Promise<RecoveryResult> {
    const cases = new Set<number>();
    const { runs, steps } = this.recoverRuns(cases);
    // Rows another live Casefile process (a CLI run sharing the data directory) is still writing are its own.
    const rows = (
      this.store.db
        .prepare("SELECT id, case_id AS caseId, name, complete, source, parse_warnings AS warnings, owner FROM artifacts WHERE parse_status = 'pending' ORDER BY id")
        .all() as { id: number; caseId: number; name: string; complete: number; source: string; warnings: string | null; owner: string | null }[]
    ).filter((r) => !ownerAlive(r.owner));
    const reingested: number[] = [];
    const failed: number[] = [];
    const fail = (id: number, why: string, size?: number): void => {
      this.store.db
        .prepare("UPDATE artifacts SET parse_status = 'failed', parse_warnings = ?, size = coalesce(?, size) WHERE id = ? AND parse_status = 'pending'")
        .run(JSON.stringify([why]), size ?? null, id);
      failed.push(id);
    };
    for (const r of rows) {
      cases.add(r.caseId);
      if (r.complete === 0 && r.source === 'import') {
        const stored = this.store.db.prepare('SELECT coalesce(sum(length(data)), 0) FROM artifact_chunks WHERE artifact_id = ?').pluck().get(r.id) as number;
        fail(r.id, `the import was interrupted (Casefile stopped after storing ${stored} bytes): import the file again`, stored);
        continue;
      }
      // A parse that itself brings the process down would otherwise be retried at every start, for ever: each
      // attempt is noted (committed) before it runs, and the ingest's own warnings replace the note when it ends.
      const notes = jsonOr<unknown>(r.warnings, []);
      const tries = Array.isArray(notes) ? notes.filter((w) => typeof w === 'string' && w.startsWith(RECOVERY_NOTE)).length : 0;
      if (tries >= MAX_RECOVERY_TRIES) {
        fail(r.id, `${r.name}: Casefile stopped ${tries} times while parsing it again at startup, so it is no longer retried; its bytes are kept (open or export them), and importing it again retries the parse`);
        continue;
      }
      this.store.db
        .prepare("UPDATE artifacts SET parse_warnings = json_insert(coalesce(parse_warnings, '[]'), '$[#]', ?) WHERE id = ?")
        .run(`${RECOVERY_NOTE} (attempt ${tries + 1} of ${MAX_RECOVERY_TRIES})`, r.id);
      // Output cut off mid-step: its size is what reached the store (the writer's last flush), not what was sent.
      if (r.complete === 0) this.store.db.prepare('UPDATE artifacts SET size = (SELECT coalesce(sum(length(data)), 0) FROM artifact_chunks WHERE artifact_id = ?) WHERE id = ?').run(r.id, r.id);
      await ingest(this.store, r.id, { dbFile: this.opts.dbFile, onProgress: (done, total) => this.emit('ingest.progress', { caseId: r.caseId, artifactId: r.id, done, total }) });
      reingested.push(r.id);
    }
    for (const caseId of cases) {
      if (!this.store.getCase(caseId)?.readOnly) this.analyze(caseId);
      this.emit('case.updated', { caseId });
    }
    return { reingested, failed, interruptedRuns: runs, interruptedSteps: steps };
  }

  /**
   * The plan of a run this process is not running (a past run, one of another process, one from a bundle), from
   * the playbook YAML the run stored, so the run view still lists every step with why it ran, with the commands
   * as they were actually run where a step did run. Runs stored before the YAML was kept fall back to the file on
   * disk if it is unchanged (same sha256); otherwise, empty.
   */
  private pastPlan(run: RunRow): PlannedStep[] {
    let playbook: Playbook | undefined;
    if (run.playbookYaml !== undefined) {
      const r = loadPlaybook(run.playbookYaml, `run ${run.id}`, {});
      if (r.ok) playbook = r.playbook;
    } else {
      try {
        const lp = this.playbooks.load(run.playbookId);
        if (lp.sha256 === run.playbookSha256) playbook = lp.playbook;
      } catch {
        // no such playbook any more
      }
    }
    if (!playbook) return [];
    const hosts = run.hostIds.map((id) => this.store.getHost(id)?.name ?? `host ${id}`);
    const params = Object.fromEntries(Object.entries(run.params).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
    const steps = this.store.listSteps(run.caseId, run.id);
    return planOf(playbook, params, hosts).map((p) => {
      const ran = [...new Set(steps.filter((x) => x.stepKey === p.stepKey).map((x) => x.display))];
      return ran.length ? { ...p, display: ran.join('\n'), error: undefined } : p;
    });
  }

  /**
   * Runs and steps a previous process left 'running' when it was killed: without this the run view polled them
   * for ever, with a Cancel button that could no longer cancel anything. Steps still running (or waiting to
   * start) become 'interrupted' with what is known, their output up to then kept; the run ends 'interrupted'.
   * Rows of a live process, and imported (read-only) cases, are left as they are. The findings then name each
   * intrusive step whose restore never ran, with the command to undo it (collector.interrupted).
   */
  private recoverRuns(cases: Set<number>): { runs: number[]; steps: number[] } {
    const db = this.store.db;
    const at = new Date().toISOString();
    const steps = (
      db
        .prepare(
          `SELECT s.id, s.case_id AS caseId, s.step_key AS stepKey, s.owner, r.owner AS runOwner FROM steps s JOIN cases c ON c.id = s.case_id
           LEFT JOIN runs r ON r.id = s.run_id WHERE s.status IN ('running', 'pending', 'awaiting-confirmation') AND c.read_only = 0 ORDER BY s.id`,
        )
        .all() as { id: number; caseId: number; stepKey: string; owner: string | null; runOwner: string | null }[]
    ).filter((r) => !ownerAlive(r.owner ?? r.runOwner));
    const runs = (
      db.prepare('SELECT r.id, r.case_id AS caseId, r.owner FROM runs r JOIN cases c ON c.id = r.case_id WHERE r.ended_ns IS NULL AND c.read_only = 0 ORDER BY r.id').all() as { id: number; caseId: number; owner: string | null }[]
    ).filter((r) => !ownerAlive(r.owner));
    const markStep = db.prepare("UPDATE steps SET status = 'interrupted', error = ? WHERE id = ? AND status IN ('running', 'pending', 'awaiting-confirmation')");
    const endRun = db.prepare("UPDATE runs SET status = 'interrupted', ended_ns = ? WHERE id = ? AND ended_ns IS NULL");
    db.transaction(() => {
      for (const st of steps) {
        const deadline = st.stepKey === 'fetch' ? '' : ' Every command Casefile runs is under a remote deadline (`timeout -s KILL`), so it has ended on the host by itself since.';
        markStep.run(`Casefile stopped while this step ran (found at the next start, ${at}); the output received until then is kept.${deadline}`, st.id);
        cases.add(st.caseId);
      }
      // ended_ns: when the recovery found it; the real moment of the stop is not known.
      for (const r of runs) {
        endRun.run(BigInt(Date.now()) * 1_000_000n, r.id);
        cases.add(r.caseId);
      }
    })();
    return { runs: runs.map((r) => r.id), steps: steps.map((s) => s.id) };
  }

  private makeHandlers(): Handlers {
    const store = this.store;
    return {
      'cases.list': () => store.listCases().map((c) => this.caseSummaryOut(c)),
      'cases.create': ({ name, title }) => {
        if (store.findCase(name)) throw new ApiError(`a case named ${JSON.stringify(name)} already exists`, 'exists');
        const c = store.createCase(name, title ?? name);
        return this.caseSummaryOut(this.caseOf(c.id));
      },
      'cases.search': ({ query }) => searchCases(store, query),
      'cases.exportBundle': ({ caseId, redact }) => (this.caseOf(caseId), exportBundleBase64(store, caseId, redact)),
      'cases.importBundle': ({ base64, name }) => this.caseSummaryOut(this.caseOf(importBundleBase64(store, base64, name))),
      'cases.get': ({ caseId }) => {
        const c = this.caseOf(caseId);
        return {
          case: this.caseSummaryOut(c),
          hosts: store.listHosts(caseId).map((h) => this.hostOut(h)),
          runs: store.listRuns(caseId).map((r) => this.runOut(r)),
          steps: store.listSteps(caseId).map((x) => this.stepOut(x)),
          artifacts: store.listArtifacts(caseId).map((a) => this.artifactOut(a)),
          findings: store.listFindings(caseId).map((f) => this.findingOut(f)),
          annotations: store.listAnnotations(caseId).map((a) => this.annotationOut(a)),
        };
      },
      'hosts.add': ({ caseId, destination, name }) => {
        this.writableCase(caseId);
        let resolved;
        try {
          resolved = resolveDestination(destination, { home: this.opts.home });
        } catch (e) {
          throw new ApiError(`cannot resolve ${JSON.stringify(destination)}: ${(e as Error).message}`);
        }
        const h = store.upsertHost(caseId, { name: name ?? destination, destination, hostname: resolved.hostName, port: resolved.port, user: resolved.user, jumpChain: resolved.proxyJump.map((j) => j.alias) });
        return this.hostOut(h);
      },
      'hosts.update': async ({ caseId, hostId, name, destination }) => {
        this.writableCase(caseId);
        const h = store.getHost(hostId);
        if (!h || h.caseId !== caseId) throw new ApiError(`host ${hostId} is not in case ${caseId}`, 'not-found');
        let resolved;
        if (destination !== undefined) {
          try {
            resolved = resolveDestination(destination, { home: this.opts.home });
          } catch (e) {
            throw new ApiError(`cannot resolve ${JSON.stringify(destination)}: ${(e as Error).message}`);
          }
          await this.runner.sessions.forget(hostId);
        }
        try {
          const row = store.updateHost(hostId, { name, destination, hostname: resolved?.hostName, port: resolved?.port, user: resolved?.user, jumpChain: resolved?.proxyJump.map((j) => j.alias) });
          this.emit('case.updated', { caseId });
          return this.hostOut(row);
        } catch (e) {
          throw new ApiError((e as Error).message, 'exists');
        }
      },
      'hosts.listConfig': () =>
        listConfigHosts({ home: this.opts.home }).map((h) =>
          strip({ alias: h.alias, hostname: h.resolved?.hostName ?? h.alias, user: h.resolved?.user, port: h.resolved?.port, proxyJump: (h.resolved?.proxyJump ?? []).map((j) => j.alias) }),
        ),
      'hosts.test': async ({ caseId, hostId }) => {
        this.writableCase(caseId);
        const h = store.getHost(hostId);
        if (!h || h.caseId !== caseId) throw new ApiError(`host ${hostId} is not in case ${caseId}`, 'not-found');
        try {
          await this.runner.testHost(h);
        } catch (e) {
          throw sshApiError(e);
        }
        return this.hostOut(store.getHost(hostId)!);
      },
      'hosts.setClockAdjust': ({ caseId, hostId, adjustNs }) => {
        const h = store.getHost(hostId);
        if (!h || h.caseId !== caseId) throw new ApiError(`host ${hostId} is not in case ${caseId}`, 'not-found');
        store.setClockAdjust(hostId, BigInt(adjustNs));
        this.emit('case.updated', { caseId });
        return this.hostOut(store.getHost(hostId)!);
      },
      'hostkeys.decide': ({ promptId, accept }) => ({ ok: this.hostKeys.decide(promptId, accept) }),
      'secrets.answer': ({ promptId, value, remember }) => ({ ok: this.secrets.answer(promptId, value, remember) }),
      'playbooks.list': () => this.playbooks.list(),
      'playbooks.get': ({ id }) => this.playbooks.get(id),
      'playbooks.validate': ({ yaml }) => this.playbooks.validate(yaml),
      'playbooks.plan': ({ id, params }) => this.playbooks.plan(id, params),
      'runs.start': async ({ caseId, playbookId, hostIds, params, autoConfirm, roles }) => {
        this.writableCase(caseId);
        const runId = await this.runner.start({ caseId, playbookId, hostIds, params, autoConfirm: autoConfirm ?? false, headless: false, roles: roles ?? {} });
        return { runId };
      },
      'runs.confirm': ({ runId, stepKey, accept, editedCommand }) => ({ ok: this.runner.confirm(runId, stepKey, accept, editedCommand) }),
      'runs.cancel': ({ runId }) => ({ ok: this.runner.cancel(runId) }),
      'runs.state': ({ runId }) => {
        const st = this.runner.state(runId);
        let run = store.getRun(runId);
        if (!run) throw new ApiError(`run ${runId} not found`, 'not-found');
        if (run.endedNs === undefined && st === undefined && !ownerAlive(run.owner) && !store.getCase(run.caseId)?.readOnly) {
          // Its process exited while this one was running (a CLI run killed in its terminal): end it now, as the
          // recovery at startup would, rather than show it running with nothing behind it.
          const cases = new Set<number>();
          this.recoverRuns(cases);
          for (const caseId of cases) {
            this.analyze(caseId);
            this.emit('case.updated', { caseId });
          }
          run = store.getRun(runId)!;
          // Its output left pending is parsed in the background, as at startup.
          void this.recoverInterrupted().catch((e: unknown) => this.opts.onLog?.(`recovering interrupted ingests failed: ${e instanceof Error ? e.message : String(e)}`));
        }
        return {
          run: this.runOut(run),
          steps: store.listSteps(run.caseId, runId).map((x) => this.stepOut(x)),
          awaiting: st?.awaiting ?? [],
          plan: st?.plan ?? this.pastPlan(run),
          findings: store.listFindings(run.caseId).map((f) => this.findingOut(f)),
          done: run.endedNs !== undefined,
          elsewhere: run.endedNs === undefined && st === undefined && run.owner !== currentOwner() && ownerAlive(run.owner),
        };
      },
      'exec.run': async ({ caseId, hostId, argv, timeoutMs, kind }) => {
        this.writableCase(caseId);
        const h = store.getHost(hostId);
        if (!h || h.caseId !== caseId) throw new ApiError(`host ${hostId} is not in case ${caseId}`, 'not-found');
        const stepId = await this.runner.execAdhoc({ caseId, host: h, argv, timeoutMs: timeoutMs ?? 30_000, kind: kind ?? 'auto', wait: false });
        return { stepId };
      },
      'artifacts.read': ({ artifactId, fromLine, maxLines }) => {
        const a = store.getArtifact(artifactId);
        if (!a) throw new ApiError(`artifact ${artifactId} not found`, 'not-found');
        return { artifact: this.artifactOut(a), ...readLines(store, a, fromLine, maxLines) };
      },
      'artifacts.packet': ({ artifactId, frame }) => strip(packetAt(store, artifactId, frame)),
      'artifacts.exportPcap': ({ artifactId, fromNs, toNs, xids }) =>
        exportPcapSlice(store, artifactId, { fromNs: fromNs === undefined ? undefined : BigInt(fromNs), toNs: toNs === undefined ? undefined : BigInt(toNs), xids }),
      'artifacts.import': async ({ caseId, name, base64, kind, hostName }) => {
        this.writableCase(caseId);
        const bytes = Buffer.from(base64, 'base64');
        return this.artifactOut(await this.importArtifact(caseId, name, bytes, { kind, hostName }));
      },
      'events.list': ({ caseId, artifactId, hostIds, kinds, fromNs, toNs, limit, offset, ids }) => {
        const hosts = this.hostMap(caseId);
        // fromNs/toNs are corrected instants, as on the timeline.
        const offsets = new Map<number | undefined, bigint>([...hosts.values()].map((h) => [h.id, hostCorrectionNs(h)] as const));
        offsets.set(undefined, 0n);
        return store
          .listEvents(caseId, { artifactId, hostIds, kinds, fromNs: fromNs === undefined ? undefined : BigInt(fromNs), toNs: toNs === undefined ? undefined : BigInt(toNs), offsets, limit, offset, ids })
          .map((e) => this.eventOut(e, hosts));
      },
      'timeline.range': ({ caseId, corrected }) => timelineRange(store, caseId, corrected),
      'timeline.buckets': ({ caseId, startNs, endNs, buckets, corrected }) => timelineBuckets(store, caseId, BigInt(startNs), BigInt(endNs), buckets, corrected),
      'timeline.related': ({ caseId, eventId }) => relatedEvents(store, caseId, eventId),
      'annotations.add': (a) => {
        this.writableCase(a.caseId);
        if (a.target === 'event' && a.eventId === undefined) throw new ApiError('an event annotation needs eventId');
        if (a.target === 'artifact-line' && (a.artifactId === undefined || a.line === undefined)) throw new ApiError('an artifact-line annotation needs artifactId and line');
        if (a.target === 'range' && (a.startNs === undefined || a.endNs === undefined)) throw new ApiError('a range annotation needs startNs and endNs');
        const row = store.addAnnotation({
          caseId: a.caseId,
          target: a.target,
          eventId: a.eventId,
          artifactId: a.artifactId,
          line: a.line,
          startNs: a.startNs === undefined ? undefined : BigInt(a.startNs),
          endNs: a.endNs === undefined ? undefined : BigInt(a.endNs),
          body: a.body,
          marker: a.marker,
          starred: a.starred,
          author: this.opts.author,
        });
        this.emit('case.updated', { caseId: a.caseId });
        return this.annotationOut(row);
      },
      'annotations.update': ({ caseId, id, body, marker, starred }) => {
        this.writableCase(caseId);
        const cur = store.getAnnotation(id);
        if (!cur || cur.caseId !== caseId) throw new ApiError(`annotation ${id} is not in case ${caseId}`, 'not-found');
        const row = store.updateAnnotation(id, { body, marker, starred });
        this.emit('case.updated', { caseId });
        return this.annotationOut(row);
      },
      'findings.analyze': ({ caseId }) => this.analyze(caseId).map((f) => this.findingOut(f)),
      search: (q) => searchCase(store, q),
      'sql.query': ({ caseId, sql }) => this.sqlQuery(caseId, sql),
      'searches.save': ({ caseId, name, query }) => (this.caseOf(caseId), { id: saveSearch(store, caseId, name, query) }),
      'searches.list': ({ caseId }) => listSearches(store, caseId),
      'searches.delete': ({ caseId, id }) => ({ ok: deleteSearch(store, caseId, id) }),
      'charts.rpc': ({ caseId, startNs, endNs, maxPoints, buckets }) =>
        rpcChart(store, caseId, { startNs: startNs === undefined ? undefined : BigInt(startNs), endNs: endNs === undefined ? undefined : BigInt(endNs), maxPoints, buckets }),
      'charts.mountstats': ({ caseId }) => mountstatsChart(store, caseId).map((r) => strip(r)),
      'files.fetch': async ({ caseId, hostId, path, kind, timeoutMs }) => {
        this.writableCase(caseId);
        const h = store.getHost(hostId);
        if (!h || h.caseId !== caseId) throw new ApiError(`host ${hostId} is not in case ${caseId}`, 'not-found');
        if (!path.startsWith('/') || path.includes('\0')) throw new ApiError('path must be absolute');
        return { stepId: await this.runner.fetchFile({ caseId, host: h, path, kind: kind ?? 'auto', timeoutMs: timeoutMs ?? 60_000, wait: false }) };
      },
      'export.report': ({ caseId, format }) => {
        const c = this.caseOf(caseId);
        const model = buildReportModel(store, caseId);
        const safe = c.name.replace(/[^\w.-]+/g, '_');
        return format === 'md' ? { content: renderMarkdown(model), fileName: `${safe}.md` } : { content: renderHtml(model, store), fileName: `${safe}.html` };
      },
    };
  }

  private sqlQuery(caseId: number, sql: string) {
    this.caseOf(caseId);
    if (!this.opts.dbFile) throw new ApiError('the SQL console needs a file-backed store');
    // A separate read-only connection: even a statement that slips past the check cannot write.
    const ro = new Database(this.opts.dbFile, { readonly: true, fileMustExist: true });
    try {
      ro.pragma('query_only = ON');
      const stmt = ro.prepare(sql);
      if (!stmt.readonly || !stmt.reader) throw new ApiError('only read-only SELECT statements are allowed in the console', 'read-only');
      const columns = stmt.columns().map((c) => c.name);
      const rows: unknown[][] = [];
      let truncated = false;
      for (const r of stmt.raw(true).iterate() as IterableIterator<unknown[]>) {
        if (rows.length >= 1000) {
          truncated = true;
          break;
        }
        rows.push(r.map((v) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? `<${v.length} bytes>` : v)));
      }
      return { columns, rows, truncated };
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(`SQL error: ${(e as Error).message}`, 'sql');
    } finally {
      ro.close();
    }
  }
}


/** SSH failures are the user's situation, not a server fault: a 4xx with a stable code and OpenSSH-like words. */
function sshApiError(e: unknown): ApiError {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof HostKeyChangedError) return new ApiError(msg, 'host-key-changed');
  if (e instanceof HostKeyRevokedError) return new ApiError(msg, 'host-key-revoked');
  if (e instanceof HostKeyNotTrustedError) return new ApiError(msg, 'host-key-refused');
  if (e instanceof ConnectTimeoutError) return new ApiError(msg, 'connect-timeout');
  if (e instanceof HostUnreachableError) return new ApiError(msg, 'unreachable');
  if (e instanceof AuthenticationError) return new ApiError(msg, 'auth-failed');
  if (e instanceof SshError) return new ApiError(msg, 'ssh');
  return new ApiError(msg, 'ssh');
}
