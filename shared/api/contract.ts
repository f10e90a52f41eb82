import { z } from 'zod';

/**
 * The one API contract. Implemented once by the backend (electron/api/backend.ts) and carried by three thin
 * transports: Electron IPC (preload exposes one method per entry below), the browser mode (HTTP + WebSocket on
 * 127.0.0.1 with a token) and the CLI. Every input is parsed with its schema on the backend side.
 *
 * Instants and durations cross the boundary as decimal strings of nanoseconds (JSON has no 64-bit integers).
 */

export const NsString = z.string().regex(/^-?\d{1,20}$/, 'nanoseconds as a decimal string');
const Id = z.number().int().positive();
const CaseName = z.string().min(1).max(128);

export const CaseSummary = z.object({
  id: Id,
  name: z.string(),
  title: z.string(),
  createdNs: NsString,
  readOnly: z.boolean(),
  hostCount: z.number(),
  artifactCount: z.number(),
  eventCount: z.number(),
  findingCount: z.number(),
  lastNs: NsString.optional(),
});
export type CaseSummary = z.infer<typeof CaseSummary>;

export const Host = z.object({
  id: Id,
  name: z.string(),
  destination: z.string(),
  hostname: z.string().optional(),
  port: z.number().optional(),
  user: z.string().optional(),
  jumpChain: z.array(z.string()),
  hostKeyType: z.string().optional(),
  hostKeyFingerprint: z.string().optional(),
  clockOffsetNs: NsString.optional(),
  clockUncertaintyNs: NsString.optional(),
  clockMeasuredNs: NsString.optional(),
  bootTimeNs: NsString.optional(),
  clockAdjustNs: NsString,
});
export type Host = z.infer<typeof Host>;

export const StepStatus = z.enum(['pending', 'awaiting-confirmation', 'running', 'ok', 'failed', 'timed-out', 'cancelled', 'needs-root', 'connection-lost', 'skipped', 'interrupted']);
export type StepStatus = z.infer<typeof StepStatus>;

export const Step = z.object({
  id: Id,
  runId: Id.optional(),
  hostId: Id.optional(),
  stepKey: z.string(),
  title: z.string(),
  isRestore: z.boolean(),
  intrusive: z.boolean(),
  command: z.string(),
  display: z.string(),
  status: StepStatus,
  exitCode: z.number().optional(),
  signal: z.string().optional(),
  timeoutMs: z.number().optional(),
  startedNs: NsString.optional(),
  endedNs: NsString.optional(),
  stuck: z.unknown().optional(),
  error: z.string().optional(),
  /** The command that undoes this intrusive step on its host (recorded when it started). */
  restore: z.string().optional(),
});
export type Step = z.infer<typeof Step>;

export const Run = z.object({
  id: Id,
  playbookId: z.string(),
  params: z.record(z.string(), z.unknown()),
  hostIds: z.array(z.number()),
  status: z.string(),
  headless: z.boolean(),
  startedNs: NsString,
  endedNs: NsString.optional(),
});
export type Run = z.infer<typeof Run>;

export const Artifact = z.object({
  id: Id,
  hostId: Id.optional(),
  stepId: Id.optional(),
  name: z.string(),
  stream: z.string(),
  kind: z.string(),
  source: z.string(),
  argv: z.union([z.array(z.string()), z.string()]).optional(),
  exitCode: z.number().optional(),
  startedNs: NsString.optional(),
  endedNs: NsString.optional(),
  clockOffsetNs: NsString.optional(),
  bootTimeNs: NsString.optional(),
  size: z.number(),
  sha256: z.string().optional(),
  complete: z.boolean(),
  isText: z.boolean(),
  invalidUtf8: z.number(),
  lineCount: z.number().optional(),
  parseStatus: z.string(),
  parseWarnings: z.array(z.string()),
  eventCount: z.number(),
});
export type Artifact = z.infer<typeof Artifact>;

export const Event = z.object({
  id: Id,
  artifactId: Id,
  hostId: Id.optional(),
  kind: z.string(),
  /** Time as the artifact states it (host clock). */
  tsNs: NsString.optional(),
  /** tsNs corrected by the host's measured clock offset and the user's adjustment. */
  correctedNs: NsString.optional(),
  tsRaw: z.string().optional(),
  clock: z.string(),
  durationNs: NsString.optional(),
  line: z.number().optional(),
  endLine: z.number().optional(),
  pid: z.number().optional(),
  level: z.string().optional(),
  text: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type Event = z.infer<typeof Event>;

export const Finding = z.object({
  id: Id,
  rule: z.string(),
  title: z.string(),
  severity: z.string(),
  explanation: z.string(),
  next: z.string().optional(),
  hostId: Id.optional(),
  firstNs: NsString.optional(),
  lastNs: NsString.optional(),
  evidence: z.array(z.unknown()),
});
export type Finding = z.infer<typeof Finding>;

export const AnnotationMarker = z.enum(['detection', 'diagnosis', 'repair', 'key-moment']);
export const Annotation = z.object({
  id: Id,
  target: z.enum(['event', 'range', 'artifact-line', 'case']),
  eventId: Id.optional(),
  artifactId: Id.optional(),
  line: z.number().optional(),
  startNs: NsString.optional(),
  endNs: NsString.optional(),
  body: z.string(),
  marker: AnnotationMarker.optional(),
  starred: z.boolean(),
  author: z.string(),
  createdNs: NsString,
  updatedNs: NsString,
  history: z.array(z.object({ body: z.string(), marker: z.string().optional(), starred: z.boolean(), editedNs: NsString })),
});
export type Annotation = z.infer<typeof Annotation>;

export const CaseDetail = z.object({
  case: CaseSummary,
  hosts: z.array(Host),
  runs: z.array(Run),
  steps: z.array(Step),
  artifacts: z.array(Artifact),
  findings: z.array(Finding),
  annotations: z.array(Annotation),
});
export type CaseDetail = z.infer<typeof CaseDetail>;

export const PlaybookSummary = z.object({
  id: z.string(),
  title: z.string(),
  summary: z.string(),
  symptoms: z.array(z.string()),
  file: z.string(),
  error: z.string().optional(),
});
export type PlaybookSummary = z.infer<typeof PlaybookSummary>;

/** A step of a playbook as the walkthrough shows it before it runs. */
export const PlannedStep = z.object({
  stepKey: z.string(),
  title: z.string(),
  why: z.string(),
  display: z.string(),
  intrusive: z.boolean(),
  timeoutMs: z.number(),
  captures: z.string(),
  on: z.string(),
  rulesIn: z.array(z.string()),
  rulesOut: z.array(z.string()),
  requires: z.array(z.object({ command: z.string(), package: z.string() })),
  hasRestore: z.boolean(),
  error: z.string().optional(),
});
export type PlannedStep = z.infer<typeof PlannedStep>;

export const Bucket = z.object({
  lane: z.string(),
  hostId: Id.optional(),
  startNs: NsString,
  endNs: NsString,
  count: z.number(),
  maxLevel: z.string().optional(),
  /** When a bucket holds exactly one event, it is given whole so the timeline can label and link it. */
  eventId: Id.optional(),
  text: z.string().optional(),
});
export type Bucket = z.infer<typeof Bucket>;

export const ConfigHost = z.object({
  alias: z.string(),
  hostname: z.string(),
  user: z.string().optional(),
  port: z.number().optional(),
  proxyJump: z.array(z.string()),
});

export const SearchHit = z.object({
  type: z.enum(['event', 'artifact']),
  id: Id,
  artifactId: Id,
  hostId: Id.optional(),
  kind: z.string(),
  tsNs: NsString.optional(),
  line: z.number().optional(),
  snippet: z.string(),
});
export type SearchHit = z.infer<typeof SearchHit>;

const m = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });

/** Method name -> input/output schemas. Adding a method here adds it to every transport. */
export const API = {
  'cases.list': m(z.object({}), z.array(CaseSummary)),
  'cases.create': m(z.object({ name: CaseName, title: z.string().max(500).optional() }), CaseSummary),
  'cases.search': m(z.object({ query: z.string().max(1000) }), z.array(z.object({ caseId: Id, name: z.string(), title: z.string(), hits: z.number(), snippet: z.string().optional() }))),
  'cases.exportBundle': m(z.object({ caseId: Id, redact: z.boolean().default(false) }), z.object({ base64: z.string(), fileName: z.string(), sha256: z.string() })),
  'cases.importBundle': m(z.object({ base64: z.string(), name: z.string().min(1).max(128).optional() }), CaseSummary),
  'cases.get': m(z.object({ caseId: Id }), CaseDetail),
  'hosts.add': m(z.object({ caseId: Id, destination: z.string().min(1).max(500), name: z.string().min(1).max(128).optional() }), Host),
  'hosts.update': m(z.object({ caseId: Id, hostId: Id, name: z.string().min(1).max(128).optional(), destination: z.string().min(1).max(500).optional() }), Host),
  'hosts.listConfig': m(z.object({}), z.array(ConfigHost)),
  'hosts.test': m(z.object({ caseId: Id, hostId: Id }), Host),
  'hosts.setClockAdjust': m(z.object({ caseId: Id, hostId: Id, adjustNs: NsString }), Host),
  'secrets.answer': m(z.object({ promptId: z.string().max(100), value: z.string().max(10_000).optional(), remember: z.boolean().default(false) }), z.object({ ok: z.boolean() })),
  'hostkeys.decide': m(z.object({ promptId: z.string().max(100), accept: z.boolean() }), z.object({ ok: z.boolean() })),
  'playbooks.list': m(z.object({}), z.array(PlaybookSummary)),
  'playbooks.get': m(z.object({ id: z.string().max(100) }), z.object({ summary: PlaybookSummary, yaml: z.string(), parameters: z.array(z.object({ name: z.string(), type: z.string(), description: z.string(), default: z.unknown().optional(), values: z.array(z.string()).optional(), required: z.boolean() })) })),
  'playbooks.validate': m(z.object({ yaml: z.string().max(1_000_000) }), z.object({ ok: z.boolean(), errors: z.array(z.object({ line: z.number(), column: z.number(), message: z.string() })) })),
  'playbooks.plan': m(z.object({ id: z.string().max(100), params: z.record(z.string(), z.string()) }), z.array(PlannedStep)),
  'runs.start': m(
    z.object({
      caseId: Id,
      playbookId: z.string().max(100),
      hostIds: z.array(Id).min(1),
      params: z.record(z.string(), z.string()),
      autoConfirm: z.boolean().optional(),
      /** Role of each host in this run (by host id): steps `on: clients` / `on: servers` follow it. Default client. */
      roles: z.record(z.string(), z.enum(['client', 'server', 'both'])).optional(),
    }),
    z.object({ runId: Id }),
  ),
  'runs.confirm': m(z.object({ runId: Id, stepKey: z.string(), accept: z.boolean(), editedCommand: z.string().max(100_000).optional() }), z.object({ ok: z.boolean() })),
  'runs.cancel': m(z.object({ runId: Id }), z.object({ ok: z.boolean() })),
  'runs.state': m(
    z.object({ runId: Id }),
    z.object({
      run: Run,
      steps: z.array(Step),
      awaiting: z.array(z.object({ stepKey: z.string(), title: z.string(), display: z.string(), intrusive: z.boolean(), why: z.string() })),
      plan: z.array(PlannedStep),
      findings: z.array(Finding),
      done: z.boolean(),
      /** In progress in another Casefile process (a CLI run sharing the data directory): followed here, cancelled there. */
      elsewhere: z.boolean().optional(),
    }),
  ),
  'exec.run': m(z.object({ caseId: Id, hostId: Id, argv: z.array(z.string().max(10_000)).min(1).max(200), timeoutMs: z.number().int().min(100).max(24 * 3600_000).optional(), kind: z.string().optional() }), z.object({ stepId: Id })),
  'artifacts.read': m(
    z.object({ artifactId: Id, fromLine: z.number().int().min(1).default(1), maxLines: z.number().int().min(1).max(20_000).default(2000) }),
    z.object({ artifact: Artifact, fromLine: z.number(), lines: z.array(z.string()), truncated: z.boolean() }),
  ),
  'artifacts.packet': m(
    z.object({ artifactId: Id, frame: z.number().int().min(1) }),
    z.object({ frame: z.number(), role: z.enum(['call', 'reply']), eventId: Id, text: z.string(), data: z.record(z.string(), z.unknown()), tsNs: NsString.optional(), linkType: z.number().optional(), length: z.number(), hex: z.string(), note: z.string().optional() }),
  ),
  'artifacts.exportPcap': m(
    z.object({ artifactId: Id, fromNs: NsString.optional(), toNs: NsString.optional(), xids: z.array(z.number().int()).max(100_000).optional() }),
    z.object({ base64: z.string(), fileName: z.string(), frames: z.number() }),
  ),
  'artifacts.import': m(z.object({ caseId: Id, name: z.string().max(500), base64: z.string(), kind: z.string().optional(), hostName: z.string().optional() }), Artifact),
  /** fromNs/toNs are corrected instants (as the timeline shows them): each host's clock offset is applied. */
  'events.list': m(
    z.object({ caseId: Id, artifactId: Id.optional(), hostIds: z.array(Id).optional(), kinds: z.array(z.string()).optional(), fromNs: NsString.optional(), toNs: NsString.optional(), limit: z.number().int().min(1).max(5000).default(500), offset: z.number().int().min(0).default(0), ids: z.array(Id).max(5000).optional() }),
    z.array(Event),
  ),
  'timeline.range': m(z.object({ caseId: Id, corrected: z.boolean().default(true) }), z.object({ startNs: NsString.optional(), endNs: NsString.optional(), lanes: z.array(z.object({ lane: z.string(), hostId: Id.optional(), count: z.number() })) })),
  'timeline.buckets': m(
    z.object({ caseId: Id, startNs: NsString, endNs: NsString, buckets: z.number().int().min(1).max(4000), corrected: z.boolean().default(true) }),
    z.array(Bucket),
  ),
  'timeline.related': m(z.object({ caseId: Id, eventId: Id }), z.object({ eventIds: z.array(Id), keys: z.array(z.string()) })),
  'annotations.add': m(
    z.object({ caseId: Id, target: z.enum(['event', 'range', 'artifact-line', 'case']), eventId: Id.optional(), artifactId: Id.optional(), line: z.number().int().optional(), startNs: NsString.optional(), endNs: NsString.optional(), body: z.string().max(100_000), marker: AnnotationMarker.optional(), starred: z.boolean().optional() }),
    Annotation,
  ),
  'annotations.update': m(z.object({ caseId: Id, id: Id, body: z.string().max(100_000).optional(), marker: AnnotationMarker.nullable().optional(), starred: z.boolean().optional() }), Annotation),
  'findings.analyze': m(z.object({ caseId: Id }), z.array(Finding)),
  search: m(
    z.object({ caseId: Id, query: z.string().max(1000), hostIds: z.array(Id).optional(), kinds: z.array(z.string()).optional(), fromNs: NsString.optional(), toNs: NsString.optional(), limit: z.number().int().min(1).max(1000).default(200) }),
    z.array(SearchHit),
  ),
  'searches.save': m(z.object({ caseId: Id, name: z.string().min(1).max(200), query: z.record(z.string(), z.unknown()) }), z.object({ id: Id })),
  'searches.list': m(z.object({ caseId: Id }), z.array(z.object({ id: Id, name: z.string(), query: z.record(z.string(), z.unknown()), createdNs: NsString }))),
  'searches.delete': m(z.object({ caseId: Id, id: Id }), z.object({ ok: z.boolean() })),
  'charts.rpc': m(
    z.object({ caseId: Id, startNs: NsString.optional(), endNs: NsString.optional(), maxPoints: z.number().int().min(10).max(200_000).default(20_000), buckets: z.number().int().min(1).max(2000).default(200) }),
    z.object({
      /** Latency scatter, sampled evenly when there are more calls than maxPoints. */
      points: z.array(z.object({ tNs: NsString, latencyMs: z.number(), op: z.string(), status: z.string().optional() })),
      sampled: z.boolean(),
      /** Calls per bucket per operation (rate over time). */
      rate: z.object({ startNs: NsString, widthNs: NsString, ops: z.record(z.string(), z.array(z.number())) }),
    }),
  ),
  'charts.mountstats': m(
    z.object({ caseId: Id }),
    z.array(z.object({ hostId: Id.optional(), mount: z.string(), tNs: NsString.optional(), op: z.string(), ops: z.number(), queueMsPerOp: z.number(), rttMsPerOp: z.number(), backlogPerSend: z.number().optional() })),
  ),
  'files.fetch': m(z.object({ caseId: Id, hostId: Id, path: z.string().min(1).max(4096), kind: z.string().optional(), timeoutMs: z.number().int().min(100).max(3600_000).optional() }), z.object({ stepId: Id })),
  'sql.query': m(z.object({ caseId: Id, sql: z.string().max(20_000) }), z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())), truncated: z.boolean() })),
  'export.report': m(z.object({ caseId: Id, format: z.enum(['md', 'html']) }), z.object({ content: z.string(), fileName: z.string() })),
} as const;

export type Api = typeof API;
export type Method = keyof Api;
export type Input<M extends Method> = z.input<Api[M]['input']>;
export type ParsedInput<M extends Method> = z.output<Api[M]['input']>;
export type Output<M extends Method> = z.output<Api[M]['output']>;
export const METHODS = Object.keys(API) as Method[];

/** Events pushed from the backend to every client. */
export const EVENTS = {
  'run.updated': z.object({ runId: Id, caseId: Id }),
  'step.output': z.object({ runId: Id.optional(), stepId: Id, caseId: Id, stream: z.enum(['stdout', 'stderr']), text: z.string() }),
  'hostkey.prompt': z.object({ promptId: z.string(), host: z.string(), port: z.number(), keyType: z.string(), fingerprint: z.string(), reason: z.enum(['unknown', 'new-algorithm']) }),
  'secret.prompt': z.object({ promptId: z.string(), kind: z.enum(['passphrase', 'password']), prompt: z.string(), canRemember: z.boolean(), attempt: z.number() }),
  'case.updated': z.object({ caseId: Id }),
  'ingest.progress': z.object({ caseId: Id, artifactId: Id, done: z.number(), total: z.number() }),
} as const;
export type EventName = keyof typeof EVENTS;
export type EventPayload<E extends EventName> = z.infer<(typeof EVENTS)[E]>;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

/** What every transport gives the renderer: typed calls plus event subscription. */
export interface ApiClient {
  call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>>;
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
}

/** Error shape carried over every transport. */
export const ApiError = z.object({ error: z.string(), code: z.string().optional() });
