/**
 * Mutation fuzz targets for the entry points the parser and capture fuzzers do not reach (see each targets-*.ts):
 * capture streaming and frame access, the playbook language, ISO time, Markdown, ingest (line splitting, gunzip,
 * kind detection, host-info/systemctl/mounts through the ingest path), the SSH parsers and the bundle importer.
 *
 * For every input: no exception escapes (only the documented error type, where a function has one), nothing
 * swallowed, results well-formed, < 1 s. Each target runs exactly N inputs and some reach the deep paths.
 *
 *   quick (default, CI):  npx vitest run test/fuzz/targets.fuzz.test.ts
 *   long:                 FUZZ_N=1000000 npx vitest run test/fuzz/targets.fuzz.test.ts
 *   one target:           FUZZ_ONLY=playbook-load npx vitest run test/fuzz/targets.fuzz.test.ts
 *   replay one failure:   FUZZ_SEED=<seed> FUZZ_ONLY=<target> FUZZ_INDEX=<i> npx vitest run test/fuzz/targets.fuzz.test.ts
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleError, importBundle } from '../../electron/export/bundle';
import { resolveDestination, SshConfigError } from '../../electron/ssh/config';
import { parseProcessTree } from '../../electron/ssh/exec';
import { parseMarkdown } from '../../renderer/markdown/parse';
import { decodeCaptureBytes } from '../../shared/capture/api';
import { createCaptureDecoder } from '../../shared/capture/decoder';
import { loadPlaybook } from '../../shared/playbook/load';
import { checkScriptTemplate } from '../../shared/playbook/template';
import { FIXTURES } from './check';
import { checkOnly, runTarget, selected, targetEnv, targetTimeout, type FuzzTarget } from './targets-harness';
import { FUZZ_TARGETS, OTHER_FUZZ_TARGETS } from './harness-env';
import { captureStreamTarget, readPacketAtTarget } from './targets-capture';
import {
  durationTarget, loadPlaybookTarget, markdownTarget, missingCommandsTarget, parseIsoTarget, selectorTarget, templateTarget,
} from './targets-playbook';
import { bundleImportTarget, makeWorld, snapshot } from './targets-bundle';
import { destinationTarget, knownHostsTarget, processTreeTarget, sshConfigTarget } from './targets-ssh';
import { detectKindTarget, gunzipTarget, lineFeederTarget, textParserTarget } from './targets-ingest';

/** A target with the counters it fills, and the floor each counter must reach in a full run of the default size. */
interface Entry {
  readonly target: FuzzTarget;
  readonly stats: Record<string, number>;
  /** Minimum per counter, as a fraction of the inputs run (checked when at least 50 inputs ran). */
  readonly floor: Readonly<Record<string, number>>;
}

function entry<S extends Record<string, number>>(stats: S, make: (s: S) => FuzzTarget, floor: Partial<Record<keyof S, number>>): Entry {
  return { target: make(stats), stats, floor: floor as Record<string, number> };
}

const ENTRIES: readonly Entry[] = [
  entry({ gzipCases: 0, rpcEvents: 0, compared: 0 }, captureStreamTarget, { gzipCases: 0.2, rpcEvents: 10, compared: 0.5 }),
  entry({ found: 0 }, readPacketAtTarget, { found: 1 }),
  entry({ ok: 0, schemaOrCheckErrors: 0 }, loadPlaybookTarget, { ok: 0.1, schemaOrCheckErrors: 0.1 }),
  entry({ ok: 0, values: 0 }, selectorTarget, { ok: 0.2, values: 0.05 }),
  entry({ ok: 0 }, durationTarget, { ok: 0.05 }),
  entry({ clean: 0, problems: 0 }, templateTarget, { clean: 0.1, problems: 0.05 }),
  entry({ found: 0 }, missingCommandsTarget, { found: 0.3 }),
  entry({ ok: 0 }, parseIsoTarget, { ok: 0.1 }),
  entry({ links: 0, blocks: 0 }, markdownTarget, { links: 0.01, blocks: 1 }),
  entry({ lines: 0, crlfSplits: 0 }, lineFeederTarget, { lines: 10, crlfSplits: 0.5 }),
  entry({ intact: 0, problems: 0 }, gunzipTarget, { intact: 0.3, problems: 0.2 }),
  entry({ pcap: 0, text: 0, parsed: 0 }, detectKindTarget, { pcap: 0.1, parsed: 0.2 }),
  // Real events of the parser's own kind, per input: the deep paths are reached, not only the rejects.
  entry({ real: 0 }, (s) => textParserTarget('host-info', s), { real: 0.4 }),
  entry({ real: 0 }, (s) => textParserTarget('systemctl', s), { real: 0.4 }),
  entry({ real: 0 }, (s) => textParserTarget('mounts', s), { real: 0.8 }),
  entry({ ok: 0, refused: 0 }, destinationTarget, { ok: 0.2, refused: 0.1 }),
  entry({ resolved: 0, refused: 0, jumps: 0 }, sshConfigTarget, { resolved: 0.3, refused: 0.02, jumps: 0.05 }),
  entry({ known: 0, unknown: 0, changed: 0, 'new-algorithm': 0, revoked: 0 }, knownHostsTarget, { known: 0.1, unknown: 0.05, changed: 0.01 }),
  entry({ processes: 0 }, processTreeTarget, { processes: 1 }),
  entry({ imported: 0, refused: 0 }, bundleImportTarget, { imported: 0.1, refused: 0.3 }),
];

checkOnly(ENTRIES.map((e) => e.target.name), FUZZ_TARGETS);

describe('fuzz targets', () => {
  it('are the names harness-env.ts lists (FUZZ_ONLY with one of them leaves the other suites out instead of failing them)', () => {
    expect([...ENTRIES.map((e) => e.target.name)].sort()).toEqual([...OTHER_FUZZ_TARGETS].sort());
  });
  afterAll(() => {
    for (const e of ENTRIES) e.target.dispose?.();
  });

  it('has a unique name per target', () => {
    const names = ENTRIES.map((e) => e.target.name);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const e of ENTRIES) {
    const t = e.target;
    const env = targetEnv(t.defaultN);
    it.runIf(selected(t.name))(
      `${t.name}: ${env.index !== undefined ? `case ${env.index}` : `${env.n} inputs`} (seed ${env.seed})`,
      async () => {
        const r = await runTarget(t);
        if (process.env.FUZZ_VERBOSE) console.log(`${t.name}: slowest ${r.slowestMs.toFixed(0)} ms, ${JSON.stringify(e.stats)}`);
        expect(r.failures, `${t.name} fuzz failures (slowest case ${r.slowestMs.toFixed(0)} ms)`).toEqual([]);
        expect(r.ran).toBe(r.expected);
        if (env.index === undefined && r.ran >= 50) {
          for (const [k, f] of Object.entries(e.floor)) {
            expect(e.stats[k], `${t.name}: counter ${k} (${JSON.stringify(e.stats)}) must reach ${f} x ${r.ran}`).toBeGreaterThanOrEqual(Math.ceil(f * r.ran));
          }
        }
      },
      targetTimeout(t),
    );
  }
});

/** Inputs these targets found, kept as direct checks independent of the fuzz seed. */
describe('regressions', () => {
  const timed = <T>(f: () => T): { ms: number; out: T } => {
    const t0 = performance.now();
    const out = f();
    return { ms: performance.now() - t0, out };
  };

  it('a corrupt pcap record length is reported at its own offset, however the capture is chunked (was the chunk start)', () => {
    const cap = new Uint8Array(readFileSync(path.join(FIXTURES, 'pcaps', 'lab__statd-down.pcap')));
    const dv = new DataView(cap.buffer, cap.byteOffset);
    const little = dv.getUint32(0, false) === 0xd4c3b2a1 || dv.getUint32(0, false) === 0x4d3cb2a1;
    const second = 24 + 16 + dv.getUint32(24 + 8, little);
    dv.setUint32(second + 8, 0xffffffff, little);
    const want = `corrupt pcap record at offset ${second}:`;
    expect(decodeCaptureBytes(cap).summary.warnings.some((w) => w.startsWith(want))).toBe(true);
    for (const size of [1, 7, 100, 4096]) {
      const dec = createCaptureDecoder({}, () => undefined);
      for (let o = 0; o < cap.length; o += size) dec.push(cap.subarray(o, o + size));
      expect(dec.end().warnings.filter((w) => w.startsWith('corrupt pcap record')), `chunks of ${size}`).toEqual([expect.stringContaining(want)]);
    }
  });

  it('loadPlaybook refuses a line the yaml parser overflows the stack on (was a RangeError)', () => {
    const file = path.join(__dirname, '..', '..', 'playbooks', 'rpc-slot-exhaustion.yaml');
    const lines = readFileSync(file, 'utf8').split('\n');
    const j = Math.max(0, lines.findIndex((l) => /^ {4}title: /.test(l) && l.includes('OPcache')));
    const text = [...lines.slice(0, j), lines[j]!.repeat(3300), ...lines.slice(j)].join('\n');
    const r = loadPlaybook(text, 'big.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toMatch(/^YAML: /);
  });

  it('Markdown: a long run of "[" is linear (was quadratic: 177 KB took 16 s); links still parse', () => {
    const { ms } = timed(() => parseMarkdown('['.repeat(200_000)));
    expect(ms).toBeLessThan(500);
    for (const unit of ['[a](', '[a](b ', '[a](b "', `[${'['.repeat(900)}]`]) expect(timed(() => parseMarkdown(unit.repeat(Math.ceil(200_000 / unit.length)))).ms, unit.slice(0, 8)).toBeLessThan(500);
    const blocks = parseMarkdown('see [the RFC](https://www.rfc-editor.org/rfc/rfc5531) and [x](javascript:alert(1))');
    const links = JSON.stringify(blocks).match(/"t":"link","text":"[^"]*","href":"[^"]*"/g);
    expect(links).toEqual(['"t":"link","text":"the RFC","href":"https://www.rfc-editor.org/rfc/rfc5531"']);
    expect(JSON.stringify(blocks)).toContain('[x](javascript:alert(1)');
  });

  it('Markdown: a run of emphasis openers with no closer is linear (was quadratic: 240 KB of "*a " took 23 s); emphasis still parses', () => {
    for (const unit of ['*a ', '_a ', '*a _b ']) expect(timed(() => parseMarkdown(unit.repeat(80_000))).ms, unit).toBeLessThan(500);
    const em = (md: string): string[] => (JSON.stringify(parseMarkdown(md)).match(/"t":"em","children":\[\{"t":"text","text":"[^"]*"/g) ?? []).map((m) => m.replace(/.*"text":"/, '').replace(/"$/, ''));
    expect(em('*one* and _two_ and *three*')).toEqual(['one', 'two', 'three']);
    // A closer found for an earlier opener is reused only while it lies ahead: here the first "*" has none.
    expect(em('a * b *c* d')).toEqual(['c']);
    expect(em('x *a *b c* y *d*')).toEqual(['a *b c', 'd']);
    expect(em('snake_case_name and __pwned')).toEqual([]);
  });

  it('checkScriptTemplate on a command line of thousands of words and placeholders is linear (1.2 MB took 1.5 s)', () => {
    const line = 'timeout -s KILL {{capture_for.seconds}} tcpdump -U -i any -s 0 -w - port 2049 '.repeat(15_000);
    const { ms, out } = timed(() => checkScriptTemplate(line));
    expect(ms).toBeLessThan(500);
    expect(out).toEqual([]);
    // The eval / sh -c checks still see words counted per command, and forget them at ";".
    expect(checkScriptTemplate('sh -c {{x}}').map((p) => p.message)).toEqual([expect.stringContaining('sh -c')]);
    expect(checkScriptTemplate('echo eval x {{x}}').map((p) => p.message)).toEqual([expect.stringContaining('eval')]);
    expect(checkScriptTemplate('echo eval; cat {{x}}; bash -x {{y}}')).toEqual([]);
  });

  it('an ssh config the lexer cannot read is an SshConfigError naming the file (was a TypeError)', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'casefile-fuzz-reg-'));
    try {
      for (const text of ['Host', 'Host a\n  HostName "unclosed\n  Port 22\n']) {
        const file = path.join(home, 'config');
        writeFileSync(file, text);
        expect(() => resolveDestination('a', { configPath: file, systemConfigPath: false, home, localUser: 'u' })).toThrow(SshConfigError);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('parseProcessTree skips damaged lines instead of returning NaN or unsafe pids', () => {
    const stat = (pid: string, ppid: string): string => `${pid} (sleep) S ${ppid} 1 1 0 -1 4194304`;
    const text = [
      `12\thrtimer_nanosleep\t-\t${stat('12', '1')}`,
      `1x\tdo_wait\t-\t${stat('1x', '1')}`,
      `13\tdo_wait\t-\t${stat('13', 'q')}`,
      `18446744073709551616\tdo_wait\t-\t${stat('1', '1')}`,
      `14\tptrace_stop\t9z\t${stat('14', '12')}`,
    ].join('\n');
    expect(parseProcessTree(text)).toEqual([
      { pid: 12, ppid: 1, comm: 'sleep', state: 'S', wchan: 'hrtimer_nanosleep' },
      { pid: 14, ppid: 12, comm: 'sleep', state: 'S', wchan: 'ptrace_stop' },
    ]);
  });

  it('bundles with a missing table, rows of another case or dangling references are refused with a reason, nothing changes', () => {
    const w = makeWorld();
    try {
      const cases: [string, string, RegExp][] = [
        ['missing-table', 'DROP TABLE annotation_history', /missing table annotation_history/],
        ['other-case', 'PRAGMA foreign_keys = OFF; UPDATE hosts SET case_id = 0', /belong to another case/],
        ['dangling', 'PRAGMA foreign_keys = OFF; UPDATE events SET host_id = 999', /broken reference/],
      ];
      for (const [name, sql, reason] of cases) {
        const f = path.join(w.dir, `${name}.casefile`);
        copyFileSync(w.good, f);
        const b = new Database(f);
        b.exec(sql);
        b.close();
        const before = snapshot(w);
        expect(() => importBundle(w.store, f, name), name).toThrow(BundleError);
        expect(() => importBundle(w.store, f, name), name).toThrow(reason);
        expect(snapshot(w)).toBe(before);
      }
      expect(importBundle(w.store, w.good, 'intact').artifacts).toBe(3);
    } finally {
      w.db.close();
      rmSync(w.dir, { recursive: true, force: true });
    }
  });
});
