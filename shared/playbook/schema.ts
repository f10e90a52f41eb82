import { z } from 'zod';
import { ARTIFACT_KINDS } from '../parsers/types';
import { DURATION_PATTERN } from './duration';

/**
 * The playbook format (YAML in playbooks/). Structural rules live here so `z.toJSONSchema` can publish them
 * for editors; cross-references (goto targets, placeholders, `on:` names, selectors) are checked in
 * `check.ts` because JSON Schema cannot express them. No transforms: the parsed value is the YAML as written
 * plus defaults, so the generated schema describes exactly the file a person edits.
 */

export const NAME_PATTERN = '^[a-z][a-z0-9_]{0,39}$';
export const ID_PATTERN = '^[a-z][a-z0-9-]{0,63}$';
export const RULE_ID_PATTERN = '^[a-z0-9]+(\\.[a-z0-9-]+)+$';

const Markdown = z.string().min(1);
const Duration = z.string({ error: 'expected a duration like 30s, 500ms, 2m or 1h' }).regex(new RegExp(DURATION_PATTERN), { error: 'expected a duration like 30s, 500ms, 2m or 1h' });
const Id = z.string({ error: 'expected a lower-case id like check-statd' }).regex(new RegExp(ID_PATTERN), { error: 'expected a lower-case id like check-statd' });
const ParamName = z.string().regex(new RegExp(NAME_PATTERN), { error: 'expected a lower-case name like server_addr' });
const RuleId = z.string().regex(new RegExp(RULE_ID_PATTERN), { error: 'expected a finding rule id like nlm.statd-unavailable' });

const common = {
  description: z.string().optional().meta({ description: 'Shown next to the input field.' }),
  required: z.boolean().optional().meta({ description: 'Default: true unless a default is given.' }),
};

export const ParameterSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pid'), ...common }).strict().meta({ description: 'A process id: digits only, 1..4194304.' }),
  z.object({ type: z.literal('int'), ...common, min: z.number().int().optional(), max: z.number().int().optional(), default: z.number().int().optional() }).strict(),
  z.object({ type: z.literal('path'), ...common, default: z.string().optional() }).strict().meta({ description: 'An absolute path without NUL, newline or control characters.' }),
  z.object({ type: z.literal('address'), ...common, default: z.string().optional() }).strict().meta({ description: 'A host name or IPv4/IPv6 literal (for example an NFS server that is not a case host).' }),
  z.object({ type: z.literal('host'), ...common }).strict().meta({ description: 'One host of the case (by name); usable in `on:`.' }),
  z.object({ type: z.literal('hosts'), ...common }).strict().meta({ description: 'A set of case hosts; usable in `on:`, never inside a command.' }),
  z.object({ type: z.literal('duration'), ...common, default: Duration.optional(), max: Duration.optional() }).strict().meta({ description: 'Renders as written ({{d}}, e.g. 20s) or as seconds ({{d.seconds}}, e.g. 20).' }),
  z.object({ type: z.literal('enum'), ...common, values: z.array(z.string().regex(/^[A-Za-z0-9._:=,+@%/-]{1,64}$/)).min(1), default: z.string().optional() }).strict(),
  z.object({ type: z.literal('string'), ...common, pattern: z.string().min(1).meta({ description: 'Regular expression the whole value must match (anchored).' }), max_length: z.number().int().positive().optional(), default: z.string().optional() }).strict(),
]);
export type ParameterDef = z.infer<typeof ParameterSchema>;
export type ParameterType = ParameterDef['type'];

export const RunSpecSchema = z.union([
  z.object({ argv: z.array(z.string()).min(1).meta({ description: 'Program and arguments; each {{param}} stays inside its one element.' }) }).strict(),
  z.object({ script: z.string().min(1).meta({ description: 'POSIX sh template; each {{param}} becomes one single-quoted word. Placeholders must be outside quotes.' }) }).strict(),
]);
export type RunSpec = z.infer<typeof RunSpecSchema>;

export const RestoreSchema = z.union([
  z.object({ argv: z.array(z.string()).min(1), timeout: Duration.optional() }).strict(),
  z.object({ script: z.string().min(1), timeout: Duration.optional() }).strict(),
]).meta({ description: 'Runs after the step on every host it started on, also after failure, timeout or cancel.' });
export type RestoreSpec = z.infer<typeof RestoreSchema>;

export const EXTRACT_TYPES = ['pid', 'int', 'path', 'address', 'word'] as const;
export type ExtractType = (typeof EXTRACT_TYPES)[number];

export const ExtractSchema = z.object({
  name: ParamName,
  select: z.string().min(1).meta({ description: 'kind[field=value,field^=prefix,field~regex,field!=value].field over the events parsed from this step, e.g. process[state^=D].pid' }),
  type: z.enum(EXTRACT_TYPES),
  description: z.string().optional(),
}).strict();
export type ExtractSpec = z.infer<typeof ExtractSchema>;

export const ConditionSchema = z.object({
  finding: z.union([RuleId, z.array(RuleId).min(1)]).optional().meta({ description: 'True when any of these findings is present.' }),
  extracted: ParamName.optional().meta({ description: 'True when this extracted value is non-empty on some host.' }),
}).strict();
export type Condition = z.infer<typeof ConditionSchema>;

export const BranchSchema = z.object({
  if: ConditionSchema.optional().meta({ description: 'Omit on the last branch to make it the default.' }),
  goto: z.string().optional().meta({ description: 'A later step id, or "end".' }),
  playbook: Id.optional().meta({ description: 'Suggest continuing with another playbook (ends this run).' }),
}).strict();
export type Branch = z.infer<typeof BranchSchema>;

export const RequirementSchema = z.object({
  command: z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/, { error: 'expected a command name like strace' }),
  package: z.string().regex(/^[a-z0-9][a-z0-9.+-]{0,63}$/, { error: 'expected a Debian package name like nfs-common' }),
}).strict();

export const RuledSchema = z.object({
  text: Markdown,
  findings: z.array(RuleId).optional(),
}).strict();

export const StepSchema = z.object({
  id: Id,
  title: z.string().min(1),
  why: Markdown.meta({ description: 'The reasoning, in Markdown: what the step answers and how to read its output.' }),
  run: RunSpecSchema,
  on: z.string().default('all').meta({ description: 'all | clients | servers | the name of a host/hosts parameter' }),
  timeout: Duration.default('30s'),
  intrusive: z.boolean().default(false).meta({ description: 'Needs the user to confirm (strace, tcpdump, rpcdebug, lock tests).' }),
  sudo: z.boolean().default(false),
  restore: RestoreSchema.optional(),
  requires: z.array(RequirementSchema).default([]),
  captures: z.enum(ARTIFACT_KINDS),
  ok_exit: z.array(z.number().int().min(0).max(255)).min(1).default([0])
    .meta({ description: 'Exit statuses that mean the step worked (grep finding nothing exits 1; flock -w giving up exits 1).' }),
  extract: z.array(ExtractSchema).default([]),
  next: z.array(BranchSchema).optional(),
  rules_in: z.array(RuledSchema).optional(),
  rules_out: z.array(RuledSchema).optional(),
}).strict();
export type Step = z.infer<typeof StepSchema>;

export const ConclusionSchema = z.object({
  id: Id,
  if: ConditionSchema.optional().meta({ description: 'Omit for the conclusion shown when no other applies.' }),
  title: z.string().min(1),
  remediation: Markdown,
  tradeoffs: Markdown.optional(),
}).strict();
export type Conclusion = z.infer<typeof ConclusionSchema>;

export const PlaybookSchema = z.object({
  $schema: z.string().optional(),
  id: Id,
  title: z.string().min(1),
  summary: Markdown,
  symptoms: z.array(z.string().min(1)).min(1),
  roles: z.object({ clients: z.string().optional(), servers: z.string().optional() }).strict().optional()
    .meta({ description: 'What the client and server hosts of a run are, in this playbook.' }),
  parameters: z.record(ParamName, ParameterSchema).default({}),
  steps: z.array(StepSchema).min(1),
  conclusions: z.array(ConclusionSchema).default([]),
}).strict().meta({ title: 'Casefile playbook', description: 'A guided investigation: typed parameters and steps that collect evidence.' });
export type Playbook = z.infer<typeof PlaybookSchema>;

/** JSON Schema for editors (Monaco, VS Code); playbooks/playbook.schema.json is this, written by scripts/gen-schema.ts. */
export function playbookJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PlaybookSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}
