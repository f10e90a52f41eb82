import type { ParsedEvent } from '../model/event';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Whether a finding names why things broke ('cause') or what broke ('symptom'). Ordering puts causes before
 * symptoms of the same severity: a process stuck in flock is what the user sees, statd being down is why.
 */
export type FindingRole = 'cause' | 'symptom' | 'context';

export interface EvidenceRef {
  /** Index of the event in the `events` array given to runRules. */
  readonly eventIndex: number;
  /** The caller's reference for that event (store id, artifact + line), passed through untouched. */
  readonly ref?: unknown;
  readonly host?: string;
  /** ISO 8601 instant of the event, when it has one. */
  readonly ts?: string;
  /** One line saying what this event shows. Plain text. */
  readonly summary: string;
}

export interface Finding {
  /** Stable rule id (documented in docs/findings.md). */
  readonly rule: string;
  readonly title: string;
  readonly severity: Severity;
  readonly role: FindingRole;
  /** Markdown: what the evidence shows and how sure we are, in our own words. */
  readonly explanation: string;
  readonly evidence: readonly EvidenceRef[];
  /** The next step or the remediation, Markdown. */
  readonly next?: string;
  /** 0..1: how strongly the evidence supports this reading. */
  readonly confidence: number;
  /** Host the finding is about, when it is about one. */
  readonly host?: string;
  /** What the finding is about within the rule (pid, server, client...), so the same subject is reported once. */
  readonly subject?: string;
}

export interface RuleMeta {
  readonly id: string;
  readonly title: string;
  /** The highest severity this rule can report. */
  readonly severity: Severity;
  readonly role: FindingRole;
  /** Markdown: when it fires, and the guards against false positives. */
  readonly description: string;
}

/** An event as runRules takes it: a parsed event plus where it came from. */
export type InputEvent = ParsedEvent & {
  readonly host?: string | undefined;
  readonly artifactKind?: string | undefined;
  readonly ref?: unknown;
  /** Which artifact the event came from (any stable key): samples of one artifact are one snapshot. */
  readonly artifact?: string | number | undefined;
};

/** A collection step as the runner recorded it (for collector.* rules). */
export interface StepRecord {
  readonly stepId: string;
  readonly host?: string | undefined;
  readonly status: string;
  readonly command?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly startedAt?: bigint | undefined;
  readonly endedAt?: bigint | undefined;
  readonly reason?: string | undefined;
  readonly missing?: readonly string[] | undefined;
  /** A restore step (undoing an intrusive step `stepId` without its `.restore` suffix). */
  readonly isRestore?: boolean | undefined;
  /** The command that undoes this (intrusive) step on its host, if the playbook has one. */
  readonly restore?: string | undefined;
  /** Status of the run the step belongs to ('running', 'done', 'interrupted', …). */
  readonly runStatus?: string | undefined;
  readonly ref?: unknown;
}

export interface RuleInput {
  readonly events: readonly InputEvent[];
  readonly steps?: readonly StepRecord[] | undefined;
}
