/**
 * React-free models behind the playbook editor, host roles, timeline spans and the evidence chain.
 * Runs in Node against the real playbook schema and the real playbooks in playbooks/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { completionsAt, resolvePath, type SchemaNode } from '../../renderer/playbook/completion';
import { cursorContext, templateNames } from '../../renderer/playbook/yamlContext';
import { rolesInput, stepHosts, type RunHost } from '../../renderer/playbook/roles';
import { durationSpans, drawableSpans, hitSpan, laneCountIn, laneKind, pairSpans, pickDetailLanes, spansByLane, stepSpans, type SpanEvent } from '../../renderer/timeline/spans';
import { buildChain, isLockCall, isLockRpc, type ChainEvent } from '../../renderer/evidence/chain';
import { viewport } from '../../renderer/timeline/coords';
import type { TBucket } from '../../renderer/timeline/data';
import { RULES } from '../../shared/findings';
import { ROOT } from './harness';

const SCHEMA = JSON.parse(readFileSync(path.join(ROOT, 'playbooks', 'playbook.schema.json'), 'utf8')) as SchemaNode;
const STUCK = readFileSync(path.join(ROOT, 'playbooks', 'stuck-process.yaml'), 'utf8');
const RULE_INFO = RULES.map((r) => ({ id: r.id, title: r.title }));

/** Completions with the cursor at the `§` in `doc` (the `§` is removed; `|` is YAML's block indicator). */
function at(doc: string): ReturnType<typeof completionsAt> {
  const i = doc.indexOf('§');
  const text = doc.slice(0, i) + doc.slice(i + 1);
  const before = text.slice(0, i).split('\n');
  return completionsAt(SCHEMA, text, before.length - 1, before[before.length - 1]!.length, RULE_INFO);
}
const labels = (xs: ReturnType<typeof completionsAt>): string[] => xs.map((x) => x.label);

describe('playbook YAML context', () => {
  it('finds the key path of a step field from indentation, in both sequence styles', () => {
    const lines = ['id: x', 'steps:', '  - id: a', '    run:', '      script: "ps"', '    captures: ps', '    '];
    expect(cursorContext(lines, 6, 4)).toMatchObject({ mode: 'key', path: ['steps', '[]'] });
    expect(cursorContext(lines, 4, 14)).toMatchObject({ mode: 'value', path: ['steps', '[]', 'run', 'script'] });
    const compact = ['steps:', '- id: a', '  cap'];
    expect(cursorContext(compact, 2, 5)).toMatchObject({ mode: 'key', path: ['steps', '[]'], typed: 'cap' });
  });

  it('knows when the cursor is inside a block scalar', () => {
    const lines = ['steps:', '  - id: a', '    run:', '      script: |', '        echo {{', '        '];
    expect(cursorContext(lines, 4, 15)).toEqual({ mode: 'block', path: ['steps', '[]', 'run', 'script'] });
  });

  it('lists parameter and extract names of a real playbook', () => {
    const names = templateNames(STUCK.split('\n'));
    expect(names).toEqual(expect.arrayContaining(['pid', 'lock_file', 'lock_wait', 'repro_deadline', 'capture_for']));
    expect(names).not.toContain('type');
    expect(names).not.toContain('description');
  });
});

describe('playbook completion from the JSON Schema', () => {
  it('offers the top-level properties not yet present', () => {
    const l = labels(at('id: x\ntitle: y\n§'));
    expect(l).toEqual(expect.arrayContaining(['summary', 'symptoms', 'parameters', 'steps', 'conclusions', 'roles']));
    expect(l).not.toContain('id');
    expect(l).not.toContain('title');
    expect(l).not.toContain('captures'); // a step property, not a top-level one
  });

  it('offers step properties inside a step, minus those the step has', () => {
    const l = labels(at('steps:\n  - id: a\n    title: t\n    ti§\n'));
    expect(l).toEqual(expect.arrayContaining(['timeout', 'why', 'run', 'captures', 'intrusive', 'restore', 'extract', 'next']));
    expect(l).not.toContain('id');
    expect(l).not.toContain('symptoms');
    const it = at('steps:\n  - id: a\n    ti§\n').find((x) => x.label === 'timeout')!;
    expect(it.replaceFrom).toBe(4);
    expect(it.insertText).toBe('timeout: ');
    expect(at('steps:\n  - id: a\n    re§\n').find((x) => x.label === 'restore')!.insertText).toBe('restore:');
  });

  it('offers the captures enum, parameter types and booleans as values', () => {
    const caps = labels(at('steps:\n  - id: a\n    captures: §\n'));
    const schemaEnum = resolvePath(SCHEMA, ['steps', '[]', 'captures'])[0]!.enum;
    expect(caps.sort()).toEqual([...(schemaEnum as string[])].sort());
    expect(caps).toContain('strace');
    const types = labels(at('parameters:\n  pid:\n    type: §\n'));
    expect(types).toEqual(expect.arrayContaining(['pid', 'int', 'path', 'duration', 'host', 'hosts']));
    expect(labels(at('steps:\n  - id: a\n    intrusive: §\n')).sort()).toEqual(['false', 'true']);
  });

  it('offers finding rule ids after finding:, in lists and flow mappings', () => {
    const ids = RULES.map((r) => r.id);
    expect(ids).toContain('nlm.statd-unavailable');
    expect(labels(at('steps:\n  - id: a\n    next:\n      - if:\n          finding: §\n'))).toEqual(ids);
    expect(labels(at('steps:\n  - id: a\n    next:\n      - if:\n          finding:\n            - nlm.§\n'))).toEqual(ids);
    const flow = at('conclusions:\n  - id: c\n    if: { finding: nfs§');
    expect(labels(flow)).toEqual(ids);
    expect(flow[0]!.replaceFrom).toBe('    if: { finding: '.length);
    const list = at('steps:\n  - id: a\n    rules_in:\n      - text: x\n        findings: [proc.d-state, nf§');
    expect(list[0]!.replaceFrom).toBe('        findings: [proc.d-state, '.length);
  });

  it('offers {{parameter}} inside run scripts only', () => {
    const doc = STUCK.replace('script: "ps -o pid,ppid,stat,wchan:32,etimes,comm,args -p {{pid}}"', 'script: "ps -p {{pi§"');
    const items = at(doc);
    expect(labels(items)).toEqual(expect.arrayContaining(['{{pid}}', '{{lock_file}}', '{{capture_for}}']));
    const pid = items.find((x) => x.label === '{{pid}}')!;
    const line = doc.slice(0, doc.indexOf('§')).split('\n').pop()!;
    expect(pid.replaceFrom).toBe(line.length - '{{pi'.length);
    // Not in `why`, and not without an opening brace.
    expect(at('steps:\n  - id: a\n    why: see {{§\n').every((x) => x.kind !== 'parameter')).toBe(true);
    expect(at('parameters:\n  pid:\n    type: pid\nsteps:\n  - id: a\n    run:\n      script: |\n        cat /proc/{{§\n').map((x) => x.label)).toEqual(['{{pid}}']);
  });
});

describe('host roles', () => {
  const hosts: RunHost[] = [
    { id: 1, name: 'client-a', role: 'client' },
    { id: 2, name: 'filer', role: 'server' },
    { id: 3, name: 'both-box', role: 'both' },
  ];
  it('maps on: to the selected hosts like the runner does', () => {
    expect(stepHosts('all', hosts, [], {})).toEqual(['client-a', 'filer', 'both-box']);
    expect(stepHosts('clients', hosts, [], {})).toEqual(['client-a', 'both-box']);
    expect(stepHosts('servers', hosts, [], {})).toEqual(['filer', 'both-box']);
    expect(stepHosts('servers', hosts.slice(0, 1), [], {})).toEqual([]);
    expect(stepHosts('target', hosts, [{ name: 'target', type: 'hosts' }], { target: 'filer, nowhere' })).toEqual(['filer']);
    expect(stepHosts('pid', hosts, [{ name: 'pid', type: 'pid' }], { pid: 'filer' })).toEqual([]);
    expect(rolesInput(hosts)).toEqual({ '1': 'client', '2': 'server', '3': 'both' });
  });
});

describe('timeline spans', () => {
  const S = 1_000_000_000n;
  const T = 1_700_000_000n * S;
  const ev = (id: number, dt: bigint, text: string, durationNs?: bigint): SpanEvent => ({ id, tsNs: String(T + dt + 5n * S), correctedNs: String(T + dt), text, ...(durationNs !== undefined ? { durationNs: String(durationNs) } : {}) });

  it('counts lane events from buckets and picks only small span-kind lanes with a host', () => {
    const b = (key: string, a: bigint, n: number): TBucket => ({ laneKey: key, startNs: T + a, endNs: T + a + S, count: n });
    const lanes = new Map<string, TBucket[]>([
      ['1|filer/rpc', [b('1|filer/rpc', 0n, 10), b('1|filer/rpc', 5n * S, 20)]],
      ['1|filer/kernel', [b('1|filer/kernel', 0n, 3)]],
      ['2|c/syscall', [b('2|c/syscall', 0n, 4000), b('2|c/syscall', S, 2000)]],
      ['-|imported/rpc', [b('-|imported/rpc', 0n, 1)]],
    ]);
    expect(laneCountIn(lanes.get('1|filer/rpc')!, T, T + 2n * S)).toBe(10);
    expect(laneCountIn(lanes.get('1|filer/rpc')!, T, T + 10n * S)).toBe(30);
    expect(pickDetailLanes(lanes, T, T + 10n * S)).toEqual(['1|filer/rpc']);
    expect(pickDetailLanes(lanes, T, T + S / 2n)).toEqual(['1|filer/rpc', '2|c/syscall']);
    expect(laneKind('a/b/rpc')).toBe('rpc');
  });

  it('makes duration spans on raw or corrected time and draws only those ≥ 2 px wide', () => {
    const spans = durationSpans('k', [ev(1, 0n, 'flock(3, LOCK_EX) = 0', 2n * S), ev(2, 3n * S, 'read', 1000n), ev(3, 4n * S, 'no duration')], true);
    expect(spans.map((s) => [s.eventId, s.startNs - T, s.endNs - T])).toEqual([
      [1, 0n, 2n * S],
      [2, 3n * S, 3n * S + 1000n],
    ]);
    expect(durationSpans('k', [ev(1, 0n, 'x', S)], false)[0]!.startNs).toBe(T + 5n * S);
    const vp = viewport(T, T + 10n * S, 1000); // 10 ms per px
    expect(drawableSpans(vp, spans).map((d) => d.span.eventId)).toEqual([1]);
    expect(hitSpan(vp, spans, 100)?.eventId).toBe(1);
    expect(hitSpan(vp, spans, 300)).toBeUndefined();
  });

  it('pairs CB_RECALL with DELEGRETURN and groups grace denials into one period', () => {
    const evs = [
      ev(1, 0n, 'NFSv4 CB CB_COMPOUND CB_SEQUENCE,CB_RECALL -> NFS4_OK'),
      ev(2, S / 2n, 'NFSv4 COMPOUND SEQUENCE,PUTFH,DELEGRETURN -> NFS4_OK'),
      ev(10, 100n * S, 'NLMv4 LOCK -> NLM4_DENIED_GRACE_PERIOD'),
      ev(11, 105n * S, 'NLMv4 LOCK -> NLM4_DENIED_GRACE_PERIOD'),
      ev(12, 110n * S, 'NLMv4 LOCK -> NLM4_DENIED_GRACE_PERIOD'),
      ev(13, 300n * S, 'NLMv4 LOCK -> NLM4_DENIED_GRACE_PERIOD'),
    ];
    const p = pairSpans('k', evs, true);
    expect(p.map((s) => [s.kind, s.startNs - T, s.endNs - T, s.eventId])).toEqual([
      ['recall', 0n, S / 2n, 1],
      ['grace', 100n * S, 110n * S, 10],
    ]);
    expect(p[1]!.label).toBe('grace period: 3 denials');
    // A recall with no DELEGRETURN within the window is not a span.
    expect(pairSpans('k', [ev(1, 0n, 'CB_RECALL'), ev(2, 61n * S, 'DELEGRETURN')], true)).toEqual([]);
  });

  it('draws step runs in a per-host steps lane, shifted by the host correction in raw mode', () => {
    const steps = [
      { hostId: 4, title: 'ps', status: 'ok', isRestore: false, startedNs: String(T), endedNs: String(T + S) },
      { hostId: 4, title: 'clear rpcdebug', status: 'failed', isRestore: true, startedNs: String(T + 2n * S) },
      { title: 'no host', status: 'ok', isRestore: false, startedNs: String(T) },
    ];
    const corr = (): bigint => 7n * S;
    const c = stepSpans(steps, corr, true, T + 10n * S);
    expect(c.map((s) => [s.laneKey, s.startNs - T, s.endNs - T, s.label])).toEqual([
      ['4|steps', 0n, S, 'ps (ok)'],
      ['4|steps', 2n * S, 10n * S, 'restore: clear rpcdebug (failed)'],
    ]);
    expect(stepSpans(steps, corr, false, T)[0]!.startNs).toBe(T + 7n * S);
    expect([...spansByLane(c).keys()]).toEqual(['4|steps']);
  });
});

describe('evidence chain', () => {
  const S = 1_000_000_000n;
  const T = 1_700_000_000n * S;
  const e = (id: number, kind: string, dt: bigint, text: string, extra: Partial<ChainEvent> = {}): ChainEvent => ({ id, kind, hostId: 1, correctedNs: String(T + dt), text, data: {}, ...extra });

  it('recognises lock calls and lock protocol packets', () => {
    expect(isLockCall(e(1, 'syscall', 0n, 'flock(3, LOCK_EX) <unfinished>', { data: { syscall: 'flock' } }))).toBe(true);
    expect(isLockCall(e(1, 'syscall', 0n, 'fcntl(3, F_SETLKW, {l_type=F_WRLCK}) = 0', { data: { syscall: 'fcntl' } }))).toBe(true);
    expect(isLockCall(e(1, 'syscall', 0n, 'fcntl(3, F_GETFL) = 2', { data: { syscall: 'fcntl' } }))).toBe(false);
    expect(isLockCall(e(1, 'syscall', 0n, 'read(3, "flock(", 6) = 6', { data: { syscall: 'read' } }))).toBe(false);
    expect(isLockRpc(e(1, 'rpc', 0n, 'NLMv4 LOCK -> NLM4_DENIED', { data: { program: 'nlm' } }))).toBe(true);
    expect(isLockRpc(e(1, 'rpc', 0n, 'NFSv4 COMPOUND SEQUENCE,PUTFH,LOCK -> NFS4ERR_DENIED', { data: { program: 'nfs', ops: ['SEQUENCE', 'PUTFH', 'LOCK'] } }))).toBe(true);
    expect(isLockRpc(e(1, 'rpc', 0n, 'NFSv3 GETATTR -> NFS3_OK', { data: { program: 'nfs' } }))).toBe(false);
  });

  it('orders the chain call → /proc/locks → packets → kernel, linked items first, and keeps the window', () => {
    const sel = e(1, 'syscall', 0n, 'flock(3, LOCK_EX) <unfinished>', { pid: 4242, data: { syscall: 'flock' } });
    const cands = [
      e(2, 'lock', 2n * S, 'waiting: FLOCK ADVISORY WRITE by 4242', { pid: 4242, data: { waiter: true } }),
      e(3, 'lock', 2n * S, 'POSIX ADVISORY WRITE by 99', { pid: 99, data: {} }),
      e(4, 'rpc', 1n * S, 'NLMv4 LOCK -> NLM4_BLOCKED', { hostId: 2, data: { program: 'nlm' } }),
      e(5, 'rpc', 30n * S, 'NLMv4 LOCK -> NLM4_DENIED', { hostId: 2, data: { program: 'nlm' } }),
      e(6, 'kernel', -5n * S, 'lockd: server filer not responding, still trying'),
      e(7, 'kernel', 3n * S, 'eth0: link up'),
      e(8, 'rpc', 90n * S, 'NLMv4 UNLOCK -> NLM4_GRANTED', { hostId: 2, data: { program: 'nlm' } }),
      e(9, 'rpc', 200n * S, 'NLMv4 TEST -> NLM4_GRANTED', { hostId: 2, data: { program: 'nlm' } }),
    ];
    const chain = buildChain(sel, cands, new Set([9]), ['pid 4242']);
    expect(chain.map((c) => [c.stage, c.event.id])).toEqual([
      ['syscall', 1],
      ['lock', 2],
      ['rpc', 9], // linked by a shared key, even outside ±60 s
      ['rpc', 4],
      ['rpc', 5],
      ['kernel', 6],
    ]);
    expect(chain[0]!.reason).toBe('selected');
    expect(chain[1]!.reason).toBe('same pid 4242');
    expect(chain[2]!.reason).toBe('shares pid 4242');
    expect(chain[3]!.reason).toBe('+1.000 s');
    expect(chain[5]!.reason).toBe('−5.000 s');
  });
});
