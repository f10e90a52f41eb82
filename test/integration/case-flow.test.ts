import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';
import { exportBundle, importBundle, verifyBundle } from '../../electron/export/bundle';
import { decodeCaptureBytes, readPacketAt } from '../../shared/capture/api';

/** A case built from real lab evidence, through the same Backend the UI and CLI use (no SSH needed). */
const fx = resolve(__dirname, '..', 'fixtures');
let dir: string;
let backend: Backend;
let caseId: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-flow-'));
  const dbFile = join(dir, 'c.db');
  backend = new Backend({ db: openDb(dbFile), dbFile, playbookDir: resolve(__dirname, '..', '..', 'playbooks') });
  caseId = backend.store.createCase('flow').id;
  await backend.importArtifact(caseId, 'nlm-conflict.pcap', readFileSync(join(fx, 'pcaps', 'lab__nlm-conflict.pcap')), { hostName: 'lab-c' });
  await backend.importArtifact(caseId, 'statd-down.pcap', readFileSync(join(fx, 'pcaps', 'lab__statd-down.pcap')), { hostName: 'lab-c' });
  await backend.importArtifact(caseId, 'dmesg.txt', readFileSync(join(fx, 'kmsg', 'dmesg.txt')), { hostName: 'lab-a', bootTimeNs: 1_763_700_000_000_000_000n });
});
afterAll(async () => {
  await backend.dispose();
  backend.store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (m: string, i: unknown) => backend.call(m, i) as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('a case from real evidence', () => {
  it('stores the RPCs the decoder reads and finds statd unavailable', async () => {
    const detail = await call('cases.get', { caseId });
    const pcap = detail.artifacts.find((a: { name: string }) => a.name === 'nlm-conflict.pcap');
    const direct = decodeCaptureBytes(new Uint8Array(readFileSync(join(fx, 'pcaps', 'lab__nlm-conflict.pcap'))));
    expect(pcap.eventCount).toBe(direct.events.length);
    expect(pcap.kind).toBe('pcap');
    expect(detail.findings.map((f: { rule: string }) => f.rule)).toContain('nlm.statd-unavailable');
  });

  it('aggregates the timeline into buckets instead of shipping rows', async () => {
    const range = await call('timeline.range', { caseId, corrected: true });
    expect(BigInt(range.endNs) > BigInt(range.startNs)).toBe(true);
    const buckets = await call('timeline.buckets', { caseId, startNs: range.startNs, endNs: range.endNs, buckets: 50, corrected: true });
    const total = buckets.reduce((n: number, b: { count: number }) => n + b.count, 0);
    const events = (backend.store.db.prepare('SELECT count(*) FROM events WHERE case_id = ? AND ts_ns IS NOT NULL').pluck().get(caseId) as number);
    expect(total).toBe(events);
    expect(buckets.length).toBeLessThanOrEqual(50 * range.lanes.length);
    // Shifting a host's clock moves its events by exactly that much.
    const lab = (detail: { hosts: { name: string; id: number }[] }) => detail.hosts.find((h) => h.name === 'lab-a');
    const hostA = lab(await call('cases.get', { caseId }))!;
    const before = await call('events.list', { caseId, hostIds: [hostA.id], limit: 1 });
    await call('hosts.setClockAdjust', { caseId, hostId: hostA.id, adjustNs: '2000000000' });
    const after = await call('events.list', { caseId, hostIds: [hostA.id], limit: 1 });
    expect(BigInt(before[0].correctedNs) - BigInt(after[0].correctedNs)).toBe(2_000_000_000n);
    expect(after[0].tsNs).toBe(before[0].tsNs);
    // events.list windows are in corrected time: the same window now finds that host's event 2 s later.
    const t = BigInt(after[0].correctedNs);
    const inWindow = await call('events.list', { caseId, hostIds: [hostA.id], fromNs: String(t), toNs: String(t + 1n), limit: 5 });
    expect(inWindow.map((e: { id: number }) => e.id)).toContain(after[0].id);
    const rawWindow = await call('events.list', { caseId, hostIds: [hostA.id], fromNs: before[0].correctedNs, toNs: String(BigInt(before[0].correctedNs) + 1n), limit: 5 });
    expect(rawWindow.map((e: { id: number }) => e.id)).not.toContain(after[0].id);
    await call('hosts.setClockAdjust', { caseId, hostId: hostA.id, adjustNs: '0' });
  });

  it('opens every RPC frame of a classic pcap by range exactly as from the whole file', async () => {
    const detail = await call('cases.get', { caseId });
    const pcap = detail.artifacts.find((a: { name: string }) => a.name === 'statd-down.pcap');
    const whole = new Uint8Array(readFileSync(join(fx, 'pcaps', 'lab__statd-down.pcap')));
    const evs = await call('events.list', { caseId, artifactId: pcap.id, kinds: ['rpc'], limit: 5000 });
    expect(evs.length).toBeGreaterThan(5);
    for (const e of evs) {
      const frames: [number, number][] = [[e.line, e.data.frameOffset]];
      if (e.data.replyFrame !== undefined) frames.push([e.data.replyFrame, e.data.replyFrameOffset]);
      for (const [frame, offset] of frames) {
        if (typeof offset !== 'number') continue; // a reply without its call carries only replyFrameOffset
        const p = await call('artifacts.packet', { artifactId: pcap.id, frame });
        const ref = readPacketAt(whole, offset)!;
        expect(p.hex).toBe(Buffer.from(ref.data).toString('hex'));
        expect(p.tsNs).toBe(ref.ts.toString());
        expect(p.length).toBe(ref.origLen);
      }
    }
  });

  it('opens one packet with its raw bytes and exports a slice that tshark reads back', async () => {
    const detail = await call('cases.get', { caseId });
    const pcap = detail.artifacts.find((a: { name: string }) => a.name === 'nlm-conflict.pcap');
    const evs = await call('events.list', { caseId, artifactId: pcap.id, limit: 500 });
    const denied = evs.find((e: { data: { status?: string } }) => e.data.status === 'NLM4_DENIED');
    expect(denied).toBeDefined();
    const p = await call('artifacts.packet', { artifactId: pcap.id, frame: denied.line });
    expect(p.role).toBe('call');
    expect(p.hex.length).toBeGreaterThan(100);
    // The raw bytes carry the same XID as the decoded event.
    expect(p.hex).toContain((denied.data.xid >>> 0).toString(16).padStart(8, '0'));
    const slice = await call('artifacts.exportPcap', { artifactId: pcap.id, xids: [denied.data.xid] });
    expect(slice.frames).toBe(2);
    const file = join(dir, slice.fileName);
    writeFileSync(file, Buffer.from(slice.base64, 'base64'));
    const again = decodeCaptureBytes(new Uint8Array(readFileSync(file)));
    expect(again.events.filter((e) => e.kind === 'rpc').map((e) => (e.data as { status?: string }).status)).toEqual(['NLM4_DENIED']);
    if (existsSync('/usr/bin/tshark')) {
      const out = execFileSync('tshark', ['-n', '-o', 'tcp.try_heuristic_first:TRUE', '-r', file, '-T', 'fields', '-e', 'rpc.xid'], { encoding: 'utf8' });
      expect(out.trim().split('\n').length).toBe(2);
    }
  });

  it('searches events and artifacts with filters', async () => {
    const hits = await call('search', { caseId, query: 'NLM4_DENIED', limit: 50 });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h: { kind: string }) => h.kind === 'rpc')).toBe(true);
    const none = await call('search', { caseId, query: 'NLM4_DENIED', kinds: ['kernel'], limit: 50 });
    expect(none).toEqual([]);
  });

  it('answers read-only SQL and refuses writes', async () => {
    const r = await call('sql.query', { caseId, sql: "SELECT kind, count(*) AS n FROM events WHERE case_id = 1 GROUP BY kind ORDER BY kind" });
    expect(r.columns).toEqual(['kind', 'n']);
    await expect(call('sql.query', { caseId, sql: 'DELETE FROM events' })).rejects.toThrow(/read-only/);
    await expect(call('sql.query', { caseId, sql: "ATTACH DATABASE '/tmp/x.db' AS x" })).rejects.toThrow();
  });

  it('exports Markdown and a self-contained HTML report where hostile text stays text', async () => {
    const hostile = Buffer.from('[    1.000000] <script>window.__pwned=1</script> [click](javascript:alert(1)) \u001b[31mred\u001b[0m lockd: server 10.1.1.1 not responding, still trying\n');
    await backend.importArtifact(caseId, 'hostile.txt', hostile, { hostName: 'lab-b', kind: 'dmesg', bootTimeNs: 1_763_700_000_000_000_000n });
    const ev = (await call('search', { caseId, query: 'pwned', limit: 5 }))[0];
    await call('annotations.add', { caseId, target: 'event', eventId: ev.id, body: 'note <img src=x onerror=alert(1)>', marker: 'key-moment', starred: true });
    const md = (await call('export.report', { caseId, format: 'md' })).content as string;
    expect(md).not.toContain('<script>');
    expect(md).toContain('\\<script\\>');
    expect(md).toContain('\\x1b[31m'.replace('[', '\\['));
    const html = (await call('export.report', { caseId, format: 'html' })).content as string;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/href=/i);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain("default-src 'none'");
    expect(html).toMatch(/<svg[^>]*aria-label="timeline"/);
    // Nothing that could load from outside: no src/href/action attributes, no CSS url() or @import. (URLs inside
    // kernel messages are escaped text, and the SVG namespace is an identifier, not a request.)
    const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
    expect(tags.filter((t) => /\s(src|href|action|srcset|poster|on\w+)\s*=/i.test(t))).toEqual([]);
    expect(html).not.toMatch(/url\(|@import/i);
  });
});

describe('case bundles', () => {
  it('round-trips a case through a .casefile bundle with integrity checks, read-only on import', async () => {
    const file = join(dir, 'flow.casefile');
    const r = exportBundle(backend.store, caseId, file);
    expect(r.bytes).toBeGreaterThan(1000);
    expect(verifyBundle(file).caseName).toBe('flow');
    const imp = importBundle(backend.store, file, 'flow-copy');
    const orig = backend.store.listArtifacts(caseId);
    const copy = backend.store.listArtifacts(imp.caseId);
    expect(copy.map((a) => [a.name, a.sha256, a.eventCount])).toEqual(orig.map((a) => [a.name, a.sha256, a.eventCount]));
    expect(backend.store.getCase(imp.caseId)!.readOnly).toBe(true);
    // The imported case shows the same timeline.
    const [r1, r2] = [await call('timeline.range', { caseId, corrected: false }), await call('timeline.range', { caseId: imp.caseId, corrected: false })];
    expect(r2.startNs).toBe(r1.startNs);
    expect(r2.lanes.map((l: { count: number }) => l.count)).toEqual(r1.lanes.map((l: { count: number }) => l.count));
    expect(backend.store.readArtifact(copy[0]!.id).equals(backend.store.readArtifact(orig[0]!.id))).toBe(true);
    expect(() => importBundle(backend.store, file, 'flow-copy')).toThrow(/already exists/);
  });

  it('refuses a truncated or corrupted bundle with the reason and changes nothing', () => {
    const file = join(dir, 'flow2.casefile');
    exportBundle(backend.store, caseId, file);
    const bytes = readFileSync(file);
    const before = backend.store.listCases().length;
    const cut = join(dir, 'cut.casefile');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => importBundle(backend.store, cut, 'cut')).toThrow(/integrity|corrupt|malformed|damaged|cannot open/i);
    // Flip bytes inside an artifact chunk: SQLite stays valid, the manifest hash catches it.
    const evil = Buffer.from(bytes);
    const at = evil.indexOf(Buffer.from('NLM'));
    const flipped = join(dir, 'flip.casefile');
    const pos = evil.indexOf(Buffer.from('lockd'));
    if (pos > 0) evil[pos] = 'L'.charCodeAt(0);
    writeFileSync(flipped, evil);
    expect(at >= 0 || pos >= 0).toBe(true);
    expect(() => importBundle(backend.store, flipped, 'flip')).toThrow(/damaged|integrity/i);
    writeFileSync(join(dir, 'junk.casefile'), Buffer.alloc(4096, 7));
    expect(() => importBundle(backend.store, join(dir, 'junk.casefile'), 'junk')).toThrow(/not a Casefile bundle/);
    expect(backend.store.listCases().length).toBe(before);
  });

  it('redacts host names, addresses and users consistently on export', () => {
    const file = join(dir, 'red.casefile');
    exportBundle(backend.store, caseId, file, { redact: true });
    const imp = importBundle(backend.store, file, 'redacted');
    const texts = backend.store.listEvents(imp.caseId, { limit: 5000 }).map((e) => e.text + JSON.stringify(e.data));
    const all = texts.join('\n') + backend.store.listHosts(imp.caseId).map((h) => h.name).join(' ');
    expect(all).not.toContain('10.231.0.11');
    expect(all).not.toContain('lab-c');
    expect(all).toMatch(/192\.0\.2\.\d+/);
    // Consistent: the same client address maps to the same pseudonym everywhere.
    const client = texts.map((t) => /"client":"(192\.0\.2\.\d+):\d+"/.exec(t)?.[1]).filter(Boolean);
    expect(new Set(client).size).toBeLessThanOrEqual(3);
    copyFileSync(file, join(dir, 'red-copy.casefile'));
  });
});
