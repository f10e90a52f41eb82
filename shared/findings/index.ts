import { Ctx } from './context';
import { KERNEL_RULES, VFS_SYNC_RULE } from './rules/kernel';
import { NFS4_RULES } from './rules/nfs4';
import { NLM_RULES } from './rules/nlm';
import { PROCESS_RULES } from './rules/process';
import type { Rule } from './rules/rule';
import { SLOT_RULES } from './rules/slots';
import { SEVERITIES, type Finding, type RuleInput, type RuleMeta } from './types';

export type { EvidenceRef, Finding, FindingRole, InputEvent, RuleInput, RuleMeta, Severity, StepRecord } from './types';
export { SEVERITIES } from './types';

/**
 * The findings engine: rules over parsed events from every host of a case, each naming a known failure
 * signature (investigations.md §7) with the evidence it rests on. Pure and deterministic: the same events
 * give the same findings in the same order.
 */

const ALL: readonly Rule[] = [...PROCESS_RULES, ...KERNEL_RULES, ...NLM_RULES, ...NFS4_RULES, ...SLOT_RULES];

/** Metadata of every rule, for documentation (docs/findings.md) and the UI. */
export const RULES: readonly RuleMeta[] = [...ALL.map((r) => r.meta), VFS_SYNC_RULE.meta];
export const RULE_IDS: ReadonlySet<string> = new Set(RULES.map((r) => r.id));

const SEV_RANK: Readonly<Record<string, number>> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));
const ROLE_RANK: Readonly<Record<string, number>> = { cause: 0, symptom: 1, context: 2 };

/** Order: severity, then causes before symptoms, then confidence, then rule id and first evidence (stable). */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEV_RANK[a.severity]! - SEV_RANK[b.severity]! ||
    ROLE_RANK[a.role]! - ROLE_RANK[b.role]! ||
    b.confidence - a.confidence ||
    a.rule.localeCompare(b.rule) ||
    (a.evidence[0]?.eventIndex ?? -1) - (b.evidence[0]?.eventIndex ?? -1) ||
    (a.subject ?? '').localeCompare(b.subject ?? '')
  );
}

/** Run every rule; a rule that throws on odd input is reported as an info finding, never breaks the others. */
export function runRules(input: RuleInput): Finding[] {
  const ctx = new Ctx(input);
  const out: Finding[] = [];
  for (const rule of ALL) {
    try {
      out.push(...rule.run(ctx));
    } catch (e) {
      out.push(ruleError(rule.meta, e));
    }
  }
  try {
    const blockedHosts = new Set(out.filter((f) => f.rule === 'proc.blocked-flock').map((f) => f.host ?? ''));
    out.push(...VFS_SYNC_RULE.run(ctx, blockedHosts));
  } catch (e) {
    out.push(ruleError(VFS_SYNC_RULE.meta, e));
  }
  return out.sort(compareFindings);
}

function ruleError(meta: RuleMeta, e: unknown): Finding {
  return {
    rule: meta.id,
    title: `Rule ${meta.id} could not run on this input`,
    severity: 'info',
    role: 'context',
    confidence: 0,
    explanation: `The rule stopped with an error (${e instanceof Error ? e.message : String(e)}); its result is unknown, not negative.`,
    evidence: [],
  };
}

/** The `casefile analyze --format json` shape: rule, title, severity, evidence (plus the rest for tools that want it). */
export function findingsToJson(findings: readonly Finding[]): unknown[] {
  return findings.map((f) => ({
    rule: f.rule,
    title: f.title,
    severity: f.severity,
    role: f.role,
    confidence: f.confidence,
    ...(f.host !== undefined ? { host: f.host } : {}),
    evidence: f.evidence.map((e) => ({ eventIndex: e.eventIndex, ...(e.host !== undefined ? { host: e.host } : {}), ...(e.ts !== undefined ? { ts: e.ts } : {}), summary: e.summary, ...(e.ref !== undefined ? { ref: e.ref } : {}) })),
    explanation: f.explanation,
    ...(f.next !== undefined ? { next: f.next } : {}),
  }));
}
