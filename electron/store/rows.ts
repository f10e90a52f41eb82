/** Row shapes of the store and their mapping from SQLite rows (checked at runtime; unknown columns ignored). */

export interface CaseRow {
  readonly id: number;
  readonly name: string;
  readonly title: string;
  readonly createdNs: bigint;
  readonly readOnly: boolean;
  readonly importedFrom?: string | undefined;
}

export interface HostRow {
  readonly id: number;
  readonly caseId: number;
  readonly name: string;
  readonly destination: string;
  readonly hostname?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  readonly jumpChain: readonly string[];
  readonly hostKeyType?: string | undefined;
  readonly hostKeyFingerprint?: string | undefined;
  readonly clockOffsetNs?: bigint | undefined;
  readonly clockUncertaintyNs?: bigint | undefined;
  readonly clockMeasuredNs?: bigint | undefined;
  readonly bootTimeNs?: bigint | undefined;
  readonly clockAdjustNs: bigint;
}

export interface RunRow {
  readonly id: number;
  readonly caseId: number;
  readonly playbookId: string;
  readonly playbookSha256?: string | undefined;
  readonly params: Readonly<Record<string, unknown>>;
  readonly hostIds: readonly number[];
  readonly status: string;
  readonly headless: boolean;
  readonly startedNs: bigint;
  readonly endedNs?: bigint | undefined;
  /** The process that created it (electron/store/owner.ts). */
  readonly owner?: string | undefined;
  /** The playbook exactly as the run used it (runs before schema 6 have none). */
  readonly playbookYaml?: string | undefined;
}

export type StepStatus =
  | 'pending'
  | 'running'
  | 'ok'
  | 'failed'
  | 'timed-out'
  | 'cancelled'
  | 'needs-root'
  | 'connection-lost'
  | 'skipped'
  /** Casefile itself stopped (killed, crashed, power lost) while the step ran; set by the recovery at the next start. */
  | 'interrupted';

export interface StepRow {
  readonly id: number;
  readonly runId?: number | undefined;
  readonly caseId: number;
  readonly hostId?: number | undefined;
  readonly stepKey: string;
  readonly title: string;
  readonly isRestore: boolean;
  readonly intrusive: boolean;
  readonly command: string;
  readonly display: string;
  readonly status: StepStatus;
  readonly exitCode?: number | undefined;
  readonly signal?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly startedNs?: bigint | undefined;
  readonly endedNs?: bigint | undefined;
  readonly stuck?: unknown;
  readonly error?: string | undefined;
  /** The restore command of an intrusive step (as displayed), recorded when the step started. */
  readonly restore?: string | undefined;
}

export interface ArtifactRow {
  readonly id: number;
  readonly caseId: number;
  readonly hostId?: number | undefined;
  readonly stepId?: number | undefined;
  readonly name: string;
  readonly stream: string;
  readonly kind: string;
  readonly source: string;
  readonly argv?: readonly string[] | string | undefined;
  readonly exitCode?: number | undefined;
  readonly startedNs?: bigint | undefined;
  readonly endedNs?: bigint | undefined;
  readonly clockOffsetNs?: bigint | undefined;
  readonly clockUncertaintyNs?: bigint | undefined;
  readonly bootTimeNs?: bigint | undefined;
  readonly size: number;
  readonly sha256?: string | undefined;
  readonly complete: boolean;
  readonly isText: boolean;
  readonly invalidUtf8: number;
  readonly lineCount?: number | undefined;
  readonly parseStatus: string;
  readonly parseWarnings: readonly string[];
  readonly eventCount: number;
}

export interface EventRow {
  readonly id: number;
  readonly caseId: number;
  readonly artifactId: number;
  readonly hostId?: number | undefined;
  readonly kind: string;
  readonly tsNs?: bigint | undefined;
  readonly tsRaw?: string | undefined;
  readonly clock: string;
  readonly durationNs?: bigint | undefined;
  readonly line?: number | undefined;
  readonly endLine?: number | undefined;
  readonly pid?: number | undefined;
  readonly level?: string | undefined;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface FindingRow {
  readonly id: number;
  readonly caseId: number;
  readonly rule: string;
  readonly title: string;
  readonly severity: string;
  readonly explanation: string;
  readonly next?: string | undefined;
  readonly hostId?: number | undefined;
  readonly firstNs?: bigint | undefined;
  readonly lastNs?: bigint | undefined;
  readonly evidence: readonly unknown[];
  readonly createdNs: bigint;
}

export type AnnotationMarker = 'detection' | 'diagnosis' | 'repair' | 'key-moment';
export interface AnnotationRow {
  readonly id: number;
  readonly caseId: number;
  readonly target: 'event' | 'range' | 'artifact-line' | 'case';
  readonly eventId?: number | undefined;
  readonly artifactId?: number | undefined;
  readonly line?: number | undefined;
  readonly startNs?: bigint | undefined;
  readonly endNs?: bigint | undefined;
  readonly body: string;
  readonly marker?: AnnotationMarker | undefined;
  readonly starred: boolean;
  readonly author: string;
  readonly createdNs: bigint;
  readonly updatedNs: bigint;
  readonly history: readonly { body: string; marker?: string | undefined; starred: boolean; editedNs: bigint }[];
}

export type Raw = Record<string, unknown>;
export const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
export const big = (v: unknown): bigint | undefined => (v === null || v === undefined ? undefined : BigInt(v as number | bigint));
export const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
export const jsonOr = <T>(v: unknown, fallback: T): T => {
  if (typeof v !== 'string' || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
};

/** JSON for event data: bigints become decimal strings so nothing is lost. */
export function toJson(v: unknown): string {
  try {
    return JSON.stringify(v); // the common case: no bigint inside, no replacer call per key
  } catch {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  }
}

// ---- row mapping (checked at runtime; unknown columns are ignored) -----------------------------
export function caseRow(r: Raw): CaseRow {
  return { id: Number(r.id), name: String(r.name), title: String(r.title ?? ''), createdNs: BigInt(r.created_ns as bigint), readOnly: Number(r.read_only) === 1, importedFrom: opt<string>(r.imported_from) };
}
export function hostRow(r: Raw): HostRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    name: String(r.name),
    destination: String(r.destination ?? ''),
    hostname: opt<string>(r.hostname),
    port: num(r.port),
    user: opt<string>(r.user),
    jumpChain: jsonOr<string[]>(r.jump_chain, []),
    hostKeyType: opt<string>(r.host_key_type),
    hostKeyFingerprint: opt<string>(r.host_key_fp),
    clockOffsetNs: big(r.clock_offset_ns),
    clockUncertaintyNs: big(r.clock_uncertainty_ns),
    clockMeasuredNs: big(r.clock_measured_ns),
    bootTimeNs: big(r.boot_time_ns),
    clockAdjustNs: big(r.clock_adjust_ns) ?? 0n,
  };
}
export function runRow(r: Raw): RunRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    playbookId: String(r.playbook_id),
    playbookSha256: opt<string>(r.playbook_sha256),
    params: jsonOr<Record<string, unknown>>(r.params_json, {}),
    hostIds: jsonOr<number[]>(r.host_ids_json, []),
    status: String(r.status),
    headless: Number(r.headless) === 1,
    startedNs: BigInt(r.started_ns as bigint),
    endedNs: big(r.ended_ns),
    owner: opt<string>(r.owner),
    playbookYaml: opt<string>(r.playbook_yaml),
  };
}
export function stepRow(r: Raw): StepRow {
  return {
    id: Number(r.id),
    runId: num(r.run_id),
    caseId: Number(r.case_id),
    hostId: num(r.host_id),
    stepKey: String(r.step_key),
    title: String(r.title ?? ''),
    isRestore: Number(r.is_restore) === 1,
    intrusive: Number(r.intrusive) === 1,
    command: String(r.command),
    display: String(r.display ?? ''),
    status: String(r.status) as StepStatus,
    exitCode: num(r.exit_code),
    signal: opt<string>(r.signal),
    timeoutMs: num(r.timeout_ms),
    startedNs: big(r.started_ns),
    endedNs: big(r.ended_ns),
    stuck: jsonOr<unknown>(r.stuck_json, undefined),
    error: opt<string>(r.error),
    restore: opt<string>(r.restore),
  };
}
export function artifactRow(r: Raw): ArtifactRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    hostId: num(r.host_id),
    stepId: num(r.step_id),
    name: String(r.name),
    stream: String(r.stream),
    kind: String(r.kind),
    source: String(r.source),
    argv: jsonOr<string[] | string | undefined>(r.argv_json, undefined),
    exitCode: num(r.exit_code),
    startedNs: big(r.started_ns),
    endedNs: big(r.ended_ns),
    clockOffsetNs: big(r.clock_offset_ns),
    clockUncertaintyNs: big(r.clock_uncertainty_ns),
    bootTimeNs: big(r.boot_time_ns),
    size: Number(r.size),
    sha256: opt<string>(r.sha256),
    complete: Number(r.complete) === 1,
    isText: Number(r.is_text) === 1,
    invalidUtf8: Number(r.invalid_utf8),
    lineCount: num(r.line_count),
    parseStatus: String(r.parse_status),
    parseWarnings: jsonOr<string[]>(r.parse_warnings, []),
    eventCount: Number(r.event_count),
  };
}
export function eventRow(r: Raw): EventRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    artifactId: Number(r.artifact_id),
    hostId: num(r.host_id),
    kind: String(r.kind),
    tsNs: big(r.ts_ns),
    tsRaw: opt<string>(r.ts_raw),
    clock: String(r.clock),
    durationNs: big(r.duration_ns),
    line: num(r.line),
    endLine: num(r.end_line),
    pid: num(r.pid),
    level: opt<string>(r.level),
    text: String(r.text),
    data: jsonOr<Record<string, unknown>>(r.data_json, {}),
  };
}
export function findingRow(r: Raw): FindingRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    rule: String(r.rule),
    title: String(r.title),
    severity: String(r.severity),
    explanation: String(r.explanation ?? ''),
    next: opt<string>(r.next),
    hostId: num(r.host_id),
    firstNs: big(r.first_ns),
    lastNs: big(r.last_ns),
    evidence: jsonOr<unknown[]>(r.evidence_json, []),
    createdNs: BigInt(r.created_ns as bigint),
  };
}
export function annotationRow(r: Raw, hist: Raw[]): AnnotationRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    target: String(r.target) as AnnotationRow['target'],
    eventId: num(r.event_id),
    artifactId: num(r.artifact_id),
    line: num(r.line),
    startNs: big(r.start_ns),
    endNs: big(r.end_ns),
    body: String(r.body),
    marker: opt<AnnotationMarker>(r.marker),
    starred: Number(r.starred) === 1,
    author: String(r.author ?? ''),
    createdNs: BigInt(r.created_ns as bigint),
    updatedNs: BigInt(r.updated_ns as bigint),
    history: hist.map((h) => ({ body: String(h.body), marker: opt<string>(h.marker), starred: Number(h.starred) === 1, editedNs: BigInt(h.edited_ns as bigint) })),
  };
}
