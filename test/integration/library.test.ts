import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';
import { startSshd, type SshdLab } from '../lab/sshd';

/** The offline library (search past cases, bundles through the API), saved searches, chart data, SFTP fetch. */
const fx = resolve(__dirname, '..', 'fixtures');
let dir: string;
let backend: Backend;
let lab: SshdLab;
const call = (m: string, i: unknown) => backend.call(m, i) as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-lib-'));
  lab = await startSshd({ alias: 'filer' });
  const dbFile = join(dir, 'c.db');
  backend = new Backend({ db: openDb(dbFile), dbFile, home: lab.home, prompts: { onUnknownHostKey: async () => false } });
});
afterAll(async () => {
  await backend.dispose();
  backend.store.db.close();
  await lab.stop();
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('case library', () => {
  it('finds past cases by name and by what their evidence says, offline', async () => {
    const a = await call('cases.create', { name: 'statd outage', title: 'php-fpm stuck on flock' });
    const b = await call('cases.create', { name: 'quiet day' });
    await backend.importArtifact(a.id, 'statd-down.pcap', readFileSync(join(fx, 'pcaps', 'lab__statd-down.pcap')));
    await backend.importArtifact(b.id, 'basic.pcap', readFileSync(join(fx, 'pcaps', 'lab__basic-v3-v4.pcap')));
    const byWord = await call('cases.search', { query: 'NLM4_DENIED_NOLOCKS' });
    expect(byWord.map((c: { name: string }) => c.name)).toEqual(['statd outage']);
    expect(byWord[0].hits).toBeGreaterThan(0);
    expect((await call('cases.search', { query: 'php-fpm' })).map((c: { name: string }) => c.name)).toEqual(['statd outage']);
    expect((await call('cases.search', { query: '' })).length).toBe(2);
  });

  it('exports a bundle and imports it back through the API, read-only; a bad one is refused', async () => {
    const c = (await call('cases.list', {})).find((x: { name: string }) => x.name === 'statd outage');
    const bundle = await call('cases.exportBundle', { caseId: c.id, redact: false });
    expect(createHash('sha256').update(Buffer.from(bundle.base64, 'base64')).digest('hex')).toBe(bundle.sha256);
    const copy = await call('cases.importBundle', { base64: bundle.base64, name: 'statd outage (archive)' });
    expect(copy.readOnly).toBe(true);
    expect(copy.eventCount).toBe(c.eventCount);
    await expect(call('annotations.add', { caseId: copy.id, target: 'case', body: 'x' })).rejects.toThrow(/read-only/);
    const broken = Buffer.from(bundle.base64, 'base64').subarray(0, 3000).toString('base64');
    await expect(call('cases.importBundle', { base64: broken, name: 'broken' })).rejects.toThrow(/integrity|corrupt|malformed|cannot open|truncated|not a Casefile/i);
    expect((await call('cases.list', {})).some((x: { name: string }) => x.name === 'broken')).toBe(false);
  });

  it('keeps saved searches per case', async () => {
    const c = (await call('cases.list', {})).find((x: { name: string }) => x.name === 'quiet day');
    const { id } = await call('searches.save', { caseId: c.id, name: 'lock errors', query: { query: 'DENIED', kinds: ['rpc'] } });
    expect(await call('searches.list', { caseId: c.id })).toEqual([expect.objectContaining({ id, name: 'lock errors', query: { query: 'DENIED', kinds: ['rpc'] } })]);
    expect((await call('searches.delete', { caseId: c.id, id })).ok).toBe(true);
    expect(await call('searches.list', { caseId: c.id })).toEqual([]);
  });

  it('gives chart data: RPC latency points and rate per operation, mountstats queue vs RTT', async () => {
    const c = await call('cases.create', { name: 'charts' });
    await backend.importArtifact(c.id, 'flood.pcap', readFileSync(join(fx, 'pcaps', 'lab__getattr-flood.pcap')));
    const r = await call('charts.rpc', { caseId: c.id, maxPoints: 500, buckets: 20 });
    expect(r.points.length).toBeLessThanOrEqual(501);
    expect(r.sampled).toBe(true);
    const total = Object.values(r.rate.ops as Record<string, number[]>).flat().reduce((a, b) => a + b, 0);
    const calls = backend.store.db.prepare("SELECT count(*) FROM events WHERE case_id = ? AND kind = 'rpc'").pluck().get(c.id) as number;
    expect(total).toBe(calls);
    expect(Object.keys(r.rate.ops)).toContain('GETATTR');
    const ms = readFileSync(join(fx, 'logs', 'prometheus-procfs__proc_26231_mountstats.txt'));
    await backend.importArtifact(c.id, 'mountstats.txt', ms, { kind: 'mountstats' });
    const m = await call('charts.mountstats', { caseId: c.id });
    expect(m.length).toBeGreaterThan(0);
    for (const row of m) expect(row.rttMsPerOp).toBeGreaterThanOrEqual(0);
  });
});

describe('SFTP fetch', () => {
  it('copies a remote file into the case byte for byte, as a recorded step', async () => {
    const c = await call('cases.create', { name: 'fetch' });
    const h = await call('hosts.add', { caseId: c.id, destination: 'filer' });
    const remote = join(lab.dir, 'remote-dmesg.txt');
    const body = readFileSync(join(fx, 'kmsg', 'dmesg.txt'));
    writeFileSync(remote, body);
    const stepId = await backend.runner.fetchFile({ caseId: c.id, host: backend.store.getHost(h.id)!, path: remote, kind: 'auto', timeoutMs: 10_000, wait: true });
    const step = backend.store.getStep(stepId)!;
    expect(step.status).toBe('ok');
    const art = backend.store.listArtifacts(c.id).find((a) => a.stepId === stepId)!;
    expect(art.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(art.kind).toBe('dmesg');
    expect(art.eventCount).toBeGreaterThan(100);
    const missing = await backend.runner.fetchFile({ caseId: c.id, host: backend.store.getHost(h.id)!, path: '/nonexistent/file', kind: 'auto', timeoutMs: 10_000, wait: true });
    expect(backend.store.getStep(missing)!.status).toBe('failed');
    expect(backend.store.getStep(missing)!.error).toMatch(/No such file|no such file/i);
  });
});

describe('hosts', () => {
  it('can be edited: renamed, or pointed at another destination, keeping their evidence', async () => {
    const c = await call('cases.create', { name: 'hosts-edit' });
    const h = await call('hosts.add', { caseId: c.id, destination: 'filer' });
    await backend.importArtifact(c.id, 'dmesg.txt', readFileSync(join(fx, 'kmsg', 'dmesg.txt')), { hostName: 'filer' });
    const renamed = await call('hosts.update', { caseId: c.id, hostId: h.id, name: 'nas-1' });
    expect(renamed.name).toBe('nas-1');
    expect(backend.store.listArtifacts(c.id).every((a) => a.hostId === h.id)).toBe(true);
    const moved = await call('hosts.update', { caseId: c.id, hostId: h.id, destination: 'root@127.0.0.1:2' });
    expect([moved.destination, moved.hostname, moved.port, moved.user]).toEqual(['root@127.0.0.1:2', '127.0.0.1', 2, 'root']);
    const other = await call('hosts.add', { caseId: c.id, destination: 'filer', name: 'other' });
    await expect(call('hosts.update', { caseId: c.id, hostId: other.id, name: 'nas-1' })).rejects.toThrow(/already exists/);
    const test = await call('hosts.test', { caseId: c.id, hostId: h.id }).catch((e: Error) => e);
    expect(String(test)).toMatch(/refused|connect/i);
  });
});
