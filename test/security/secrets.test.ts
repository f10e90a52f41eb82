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
