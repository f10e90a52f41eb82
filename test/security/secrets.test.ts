import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';
import { exportBundle } from '../../electron/export/bundle';
import { startSshd, type SshdLab } from '../lab/sshd';

/**
 * A passphrase typed by the user is used to unlock the key and then forgotten: it must not appear in the
 * store (database, WAL), in what the backend logs, in reports or in bundles — also when the first attempt
 * is wrong and is asked again.
 */
const SECRET = 'correct-horse-battery-staple-7Qx!';
const WRONG = 'wrong-passphrase-9Zk?';
let lab: SshdLab;
let dir: string;

beforeAll(async () => {
  lab = await startSshd({ alias: 'locked', passphrase: SECRET });
  dir = mkdtempSync(join(tmpdir(), 'cf-secret-'));
});
afterAll(async () => {
  await lab.stop();
  await lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('secrets', () => {
  it('never writes a passphrase to the database, logs, reports or bundles', async () => {
    const dbFile = join(dir, 'casefile.db');
    const logs: string[] = [];
    const asked: number[] = [];
    const backend = new Backend({
      db: openDb(dbFile),
      dbFile,
      home: lab.home,
      prompts: {
        onUnknownHostKey: async () => false,
        askPassphrase: async () => {
          asked.push(1);
          return asked.length === 1 ? WRONG : SECRET;
        },
      },
      onLog: (l) => logs.push(l),
    });
    const c = backend.store.createCase('secret');
    const h = (await backend.call('hosts.add', { caseId: c.id, destination: 'locked' })) as { id: number };
    const host = backend.store.getHost(h.id)!;
    const stepId = await backend.runner.execAdhoc({ caseId: c.id, host, argv: ['sh', '-c', 'echo unlocked; env | grep -c . '], timeoutMs: 10_000, kind: 'text', wait: true });
    expect(backend.store.getStep(stepId)!.status).toBe('ok');
    expect(asked.length).toBe(2);
    const md = ((await backend.call('export.report', { caseId: c.id, format: 'md' })) as { content: string }).content;
    const html = ((await backend.call('export.report', { caseId: c.id, format: 'html' })) as { content: string }).content;
    exportBundle(backend.store, c.id, join(dir, 'b.casefile'));
    await backend.dispose();
    backend.store.db.close();
    const places: [string, string][] = [['report.md', md], ['report.html', html], ['logs', logs.join('\n')]];
    for (const f of readdirSync(dir)) places.push([f, readFileSync(join(dir, f)).toString('latin1')]);
    expect(places.some(([, t]) => t.includes('unlocked'))).toBe(true); // the scan does see stored output
    for (const [where, text] of places) {
      expect(text.includes(SECRET), where).toBe(false);
      expect(text.includes(WRONG), where).toBe(false);
    }
  });
});

describe('passphrase asked through the UI', () => {
  it('is asked with a secret.prompt event, used once, and remembered only in the vault when the user asks', async () => {
    const dbFile = join(dir, 'ui.db');
    const vaultData = new Map<string, string>(); // stands for the desktop's safeStorage file
    const backend = new Backend({ db: openDb(dbFile), dbFile, home: lab.home, prompts: { onUnknownHostKey: async () => false }, vault: { get: (k) => vaultData.get(k), set: (k, v) => void vaultData.set(k, v) } });
    const prompts: { kind: string; canRemember: boolean }[] = [];
    backend.onEvent((event, payload) => {
      if (event !== 'secret.prompt') return;
      const p = payload as { promptId: string; kind: string; canRemember: boolean };
      prompts.push(p);
      void backend.call('secrets.answer', { promptId: p.promptId, value: SECRET, remember: true });
    });
    const c = backend.store.createCase('ui');
    const h = (await backend.call('hosts.add', { caseId: c.id, destination: 'locked' })) as { id: number };
    const step = await backend.runner.execAdhoc({ caseId: c.id, host: backend.store.getHost(h.id)!, argv: ['true'], timeoutMs: 10_000, kind: 'text', wait: true });
    expect(backend.store.getStep(step)!.status).toBe('ok');
    expect(prompts).toEqual([expect.objectContaining({ kind: 'passphrase', canRemember: true })]);
    expect([...vaultData.values()]).toEqual([SECRET]);
    // A new connection finds it in the vault and does not ask again.
    await backend.call('hosts.test', { caseId: c.id, hostId: h.id });
    expect(prompts.length).toBe(1);
    await backend.dispose();
    backend.store.db.close();
    expect(readFileSync(dbFile).toString('latin1').includes(SECRET)).toBe(false);
  });
});
