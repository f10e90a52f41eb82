/**
 * Fuzz targets for the playbook language (loadPlaybook, selectors, durations, script templates, the missing-command
 * marker), ISO time parsing and the renderer's Markdown subset. All seeds come from the real playbooks under
 * playbooks/, the real fixtures and the docs; nothing here may throw for any text.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_KINDS, type ParsedEvent } from '../../shared/model/event';
import { parseIso, toIso } from '../../shared/model/time';
import { parseText } from '../../shared/parsers';
import { durationSecondsText, DURATION_PATTERN, parseDurationMs } from '../../shared/playbook/duration';
import { loadPlaybook } from '../../shared/playbook/load';
import { parseMissingCommands, remoteCommand } from '../../shared/playbook/render';
import { evaluateSelector, parseSelector } from '../../shared/playbook/selector';
import { checkScriptTemplate } from '../../shared/playbook/template';
import { parseMarkdown, type Block, type Inline } from '../../renderer/markdown/parse';
import { FIXTURES, loadFixtures } from './check';
import { textOf, textTarget, type FuzzTarget } from './targets-harness';

const ROOT = join(__dirname, '..', '..');
const PLAYBOOK_DIR = join(ROOT, 'playbooks');

export const playbookSeeds: readonly { name: string; text: string }[] = readdirSync(PLAYBOOK_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(join(PLAYBOOK_DIR, f), 'utf8') }));

/** Every string value under the given keys anywhere in the loaded playbooks (selectors, scripts, durations, why). */
function stringsUnder(keys: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, key: string | undefined): void => {
    if (typeof v === 'string') {
      if (key !== undefined && keys.has(key)) out.add(v);
    } else if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const s of playbookSeeds) {
    const r = loadPlaybook(s.text, s.name);
    if (r.ok) walk(r.playbook, undefined);
  }
  return [...out].sort();
}

const selectorSeeds = stringsUnder(new Set(['select']));
const scriptSeeds = stringsUnder(new Set(['script']));
const durationSeeds = [...stringsUnder(new Set(['timeout', 'default', 'wait', 'interval'])).filter((s) => new RegExp(DURATION_PATTERN).test(s)), '500ms', '1h'];
const markdownSeeds = [
  ...stringsUnder(new Set(['why', 'description', 'summary', 'explain'])),
  readFileSync(join(ROOT, 'README.md'), 'utf8').slice(0, 60_000),
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => readFileSync(join(ROOT, 'docs', f), 'utf8').slice(0, 60_000)),
  ...loadFixtures(['hostile']).map((f) => textOf(f.bytes)),
];

/** Real events to evaluate selectors on: ps, stacks, mounts and dmesg parsed from the fixtures. */
const sampleEvents: readonly ParsedEvent[] = [
  ...parseText('ps', readFileSync(join(FIXTURES, 'evidence', '002-mount-race', 'ps.txt'), 'utf8')).events,
  ...parseText('proc-stack', readFileSync(join(FIXTURES, 'evidence', '002-mount-race', 'stacks.txt'), 'utf8')).events,
  ...parseText('mountstats', readFileSync(join(FIXTURES, 'evidence', '004-slot-table', 'mountstats-1.txt'), 'utf8')).events,
  ...parseText('dmesg', readFileSync(join(FIXTURES, 'kmsg', 'dmesg.txt'), 'utf8')).events.slice(0, 200),
];

export interface PlaybookStats {
  ok: number;
  schemaOrCheckErrors: number;
}

/** loadPlaybook: { ok, playbook } or { ok: false, errors } with positions; a thrown error of any kind is a bug. */
export function loadPlaybookTarget(stats: PlaybookStats): FuzzTarget {
  const seeds = playbookSeeds.map((s) => s.text);
  return textTarget('playbook-load', 250, seeds, 2, (text) => {
      const r = loadPlaybook(text, 'fuzz.yaml');
      if (r.ok) {
        stats.ok++;
        return typeof r.playbook === 'object' && r.playbook !== null ? [] : ['ok without a playbook'];
      }
      const p: string[] = [];
      if (!Array.isArray(r.errors) || r.errors.length === 0) return ['refused without errors'];
      for (const e of r.errors) {
        if (!Number.isInteger(e.line) || e.line < 1 || !Number.isInteger(e.col) || e.col < 1) p.push(`error at line ${e.line} col ${e.col}`);
        if (typeof e.message !== 'string' || e.message === '' || typeof e.path !== 'string' || e.file !== 'fuzz.yaml') p.push(`malformed error ${JSON.stringify(e)}`);
      }
      if (r.errors.some((e) => !e.message.startsWith('YAML:'))) stats.schemaOrCheckErrors++;
      return p;
  });
}

const OPS = new Set(['=', '!=', '^=', '~']);

/** parseSelector (ok with a known kind, or an error string) and evaluateSelector over real events (strings out). */
export function selectorTarget(stats: { ok: number; values: number }): FuzzTarget {
  const seeds = [...selectorSeeds, 'process[state^=D,comm~^(php|nfs)].pid', 'mount[fstype~^nfs,server!=x].server'];
  return textTarget('playbook-selector', 1500, seeds, 2, (text) => {
      const r = parseSelector(text);
      if (!r.ok) return typeof r.error === 'string' && r.error !== '' ? [] : ['refused without a reason'];
      stats.ok++;
      const s = r.selector;
      const p: string[] = [];
      if (!(EVENT_KINDS as readonly string[]).includes(s.kind)) p.push(`kind ${s.kind}`);
      if (typeof s.field !== 'string' || s.field === '') p.push('empty field');
      for (const c of s.where) if (!OPS.has(c.op) || typeof c.value !== 'string') p.push(`condition ${JSON.stringify(c)}`);
      const values = evaluateSelector(s, sampleEvents);
      stats.values += values.length;
      if (values.some((v) => typeof v !== 'string')) p.push('a selected value is not a string');
      return p;
  });
}

/** parseDurationMs: undefined, or a safe non-negative integer of milliseconds that durationSecondsText can print. */
export function durationTarget(stats: { ok: number }): FuzzTarget {
  const re = new RegExp(DURATION_PATTERN);
  return textTarget('playbook-duration', 1500, durationSeeds, 2, (text) => {
      const ms = parseDurationMs(text);
      if (ms === undefined) return re.test(text) ? [`"${text}" matches the pattern but was refused`] : [];
      stats.ok++;
      if (!Number.isSafeInteger(ms) || ms < 0) return [`${ms} ms`];
      if (!re.test(text)) return [`"${text}" accepted though it does not match ${DURATION_PATTERN}`];
      return /^\d+(\.\d{1,3})?$/.test(durationSecondsText(ms)) ? [] : [`seconds text ${durationSecondsText(ms)}`];
  });
}

/** checkScriptTemplate: a list of { offset inside the template, message }, never an exception. */
export function templateTarget(stats: { clean: number; problems: number }): FuzzTarget {
  return textTarget('playbook-template', 400, scriptSeeds, 3, (text) => {
      const probs = checkScriptTemplate(text);
      if (probs.length === 0) stats.clean++;
      else stats.problems++;
      const bad = probs.filter((q) => !Number.isInteger(q.offset) || q.offset < 0 || q.offset > text.length || typeof q.message !== 'string' || q.message === '');
      return bad.slice(0, 3).map((q) => `problem ${JSON.stringify(q)}`);
  });
}

/** Real stderr of the requirement check (remoteCommand run by sh) when some required commands are missing. */
function missingSeeds(): string[] {
  const out: string[] = [];
  for (const req of [['flock', 'casefile-no-such-tool'], ['casefile-missing-a', 'sh', 'casefile-missing-b.v2']]) {
    const cmd = remoteCommand({ argv: ['true'], display: 'true' }, { requires: req.map((command) => ({ command })) });
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 5000 });
    out.push(`${r.stderr}sudo: a password is required\n`, r.stderr);
  }
  return out;
}

/** parseMissingCommands: command names only (the shape remoteCommand accepts), from any stderr. */
export function missingCommandsTarget(stats: { found: number }): FuzzTarget {
  const seeds = missingSeeds();
  return textTarget('playbook-missing', 1000, seeds, 3, (text) => {
      const names = parseMissingCommands(text);
      stats.found += names.length;
      return names.filter((n) => typeof n !== 'string' || !/^[A-Za-z0-9._+-]+$/.test(n)).map((n) => `name ${JSON.stringify(n)}`);
  });
}

/** ISO-8601 instants found in the fixtures (dmesg -T/--time-format iso, journal exports, host-info). */
function isoSeeds(): string[] {
  const out = new Set<string>(['2026-11-22T03:05:39.038955994Z', '2018-10-23 09:00:01,123+0200']);
  for (const f of loadFixtures(['kmsg', 'logs', 'stuck', 'fuzz-seeds'])) {
    for (const m of textOf(f.bytes.subarray(0, 200_000)).matchAll(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g)) {
      out.add(m[0]);
      if (out.size > 200) break;
    }
  }
  return [...out];
}

/** parseIso: undefined or a bigint that toIso can print back (a time the UI cannot show is no time). */
export function parseIsoTarget(stats: { ok: number }): FuzzTarget {
  const seeds = isoSeeds();
  return textTarget('parse-iso', 2000, seeds, 2, (text) => {
      const t = parseIso(text);
      if (t === undefined) return [];
      stats.ok++;
      if (typeof t !== 'bigint') return [`result is ${typeof t}`];
      return /^-?\+?\d{4,6}-\d{2}-\d{2}T/.test(toIso(t, 9)) ? [] : [`toIso gave ${toIso(t, 9)}`];
  });
}

function inlineProblems(xs: readonly Inline[], depth: number): string[] {
  const p: string[] = [];
  if (depth > 200) return ['inline nesting deeper than 200'];
  for (const x of xs) {
    switch (x.t) {
      case 'text':
      case 'code':
        if (typeof x.text !== 'string') p.push(`${x.t} without text`);
        break;
      case 'strong':
      case 'em':
        p.push(...inlineProblems(x.children, depth + 1));
        break;
      case 'link':
        if (!/^https?:\/\//i.test(x.href)) p.push(`link to ${JSON.stringify(x.href.slice(0, 80))}`);
        break;
      default:
        p.push(`unknown inline ${JSON.stringify(x).slice(0, 80)}`);
    }
  }
  return p;
}

function blockProblems(b: Block): string[] {
  switch (b.t) {
    case 'p':
      return inlineProblems(b.children, 0);
    case 'h':
      return [1, 2, 3].includes(b.level) ? inlineProblems(b.children, 0) : [`heading level ${b.level}`];
    case 'ul':
      return b.items.flatMap((i) => inlineProblems(i, 0));
    case 'ol':
      return Number.isSafeInteger(b.start) ? b.items.flatMap((i) => inlineProblems(i, 0)) : [`list start ${b.start}`];
    case 'pre':
      return typeof b.text === 'string' ? [] : ['pre without text'];
    default:
      return [`unknown block ${JSON.stringify(b).slice(0, 80)}`];
  }
}

/** parseMarkdown: a tree of known blocks whose links are all http(s), for any text (hostile corpus included). */
export function markdownTarget(stats: { links: number; blocks: number }): FuzzTarget {
  return textTarget('markdown', 400, markdownSeeds, 3, (text) => {
      const blocks = parseMarkdown(text);
      stats.blocks += blocks.length;
      stats.links += JSON.stringify(blocks).split('"t":"link"').length - 1;
      return blocks.flatMap(blockProblems).slice(0, 5);
  });
}
