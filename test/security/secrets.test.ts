import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';
import { exportBundle } from '../../electron/export/bundle';
import { startSshd, type SshdLab } from '../lab/sshd';
import type { Host } from '../../shared/api/contract';

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

/**
 * Password login (sshd with PasswordAuthentication yes) through the same path the UI uses: a secret.prompt event,
 * answered with secrets.answer — first wrong, then right. Neither password may reach the database file (nor its
 * -wal/-shm, read while the database is still open and again after close), the backend log, anything this
 * process writes to stdout/stderr or the console, the Markdown/HTML reports, or an exported bundle.
 * The login needs an account with a known password: a throwaway local user, removed afterwards. (sshd runs
 * with UsePAM no, so keyboard-interactive has no responder here; the client's keyboard-interactive answers go
 * through the same secret.prompt path.)
 */
describe('password login', () => {
  const PASSWORD = `pw-${randomBytes(9).toString('base64url')}-Lq7!`;
  const WRONG_PW = `wrong-${randomBytes(9).toString('base64url')}-Zr2?`;
  const user = `cfsec${randomBytes(3).toString('hex')}`;
  let pwLab: SshdLab;
  let pwDir: string;

  beforeAll(async () => {
    execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', '-d', '/nonexistent', user], { stdio: 'pipe' });
    execFileSync('chpasswd', [], { input: `${user}:${PASSWORD}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    pwLab = await startSshd({ alias: 'pwhost', passwordAuth: true });
    // An alias that logs in as the throwaway user with no usable key, so the password is the only way in.
    writeFileSync(
      join(pwLab.home, '.ssh', 'config'),
      `Host pwhost\n  HostName 127.0.0.1\n  Port ${pwLab.port}\n  User ${user}\n  IdentityFile ~/.ssh/none\n  IdentitiesOnly yes\n  PubkeyAuthentication no\n  ConnectTimeout 5\n`,
      { mode: 0o600 },
    );
    pwDir = mkdtempSync(join(tmpdir(), 'cf-secret-pw-'));
  });
  afterAll(async () => {
    await pwLab?.stop();
    await pwLab?.cleanup();
    try {
      execFileSync('userdel', [user], { stdio: 'pipe' });
    } catch {
      /* never created */
    }
    if (pwDir) rmSync(pwDir, { recursive: true, force: true });
  });

  it('never writes a login password to the database, its WAL, logs, stdout/stderr or reports', async () => {
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) => {
      const orig = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('latin1'));
        return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      return () => (stream.write = orig as typeof stream.write);
    };
    const restoreOut = capture(process.stdout);
    const restoreErr = capture(process.stderr);
    const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((k) => vi.spyOn(console, k));
    const dbFile = join(pwDir, 'casefile.db');
    const logs: string[] = [];
    const places: [string, string][] = [];
    const scanDir = (when: string): void => {
      for (const f of readdirSync(pwDir)) places.push([`${when}: ${f}`, readFileSync(join(pwDir, f)).toString('latin1')]);
    };
    try {
      const backend = new Backend({ db: openDb(dbFile), dbFile, home: pwLab.home, prompts: { onUnknownHostKey: async () => false }, onLog: (l) => logs.push(l) });
      const prompts: { kind: string; prompt: string }[] = [];
      backend.onEvent((event, payload) => {
        if (event !== 'secret.prompt') return;
        const q = payload as { promptId: string; kind: string; prompt: string };
        prompts.push(q);
        void backend.call('secrets.answer', { promptId: q.promptId, value: prompts.length === 1 ? WRONG_PW : PASSWORD, remember: false });
      });
      const c = backend.store.createCase('pw');
      const h = (await backend.call('hosts.add', { caseId: c.id, destination: 'pwhost' })) as Host;
      const exec = () => backend.runner.execAdhoc({ caseId: c.id, host: backend.store.getHost(h.id)!, argv: ['sh', '-c', 'echo logged-in-as-$(id -un)'], timeoutMs: 15_000, kind: 'text', wait: true });
      // The first attempt gets the wrong password and fails (the app asks once per connection, as the error says).
      const first = backend.store.getStep(await exec())!;
      expect(first.status).toBe('failed');
      expect(JSON.stringify(first.error)).toMatch(/permission denied \(tried password\)/);
      const step = backend.store.getStep(await exec())!;
      expect(step.status, JSON.stringify(step, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toBe('ok');
      // Both passwords were really asked for and really used: the wrong one refused by sshd, the right one accepted.
      expect(prompts.map((q) => q.kind)).toEqual(['password', 'password']);
      expect(pwLab.log()).toMatch(new RegExp(`Failed password for ${user}`));
      expect(pwLab.log()).toMatch(new RegExp(`Accepted password for ${user}`));
      const md = ((await backend.call('export.report', { caseId: c.id, format: 'md' })) as { content: string }).content;
      const html = ((await backend.call('export.report', { caseId: c.id, format: 'html' })) as { content: string }).content;
      exportBundle(backend.store, c.id, join(pwDir, 'pw.casefile'));
      expect(existsSync(`${dbFile}-wal`)).toBe(true); // the WAL is scanned while it still holds the recent writes
      scanDir('open');
      await backend.dispose();
      backend.store.db.close();
      scanDir('closed');
      places.push(['report.md', md], ['report.html', html], ['backend log', logs.join('\n')]);
    } finally {
      restoreOut();
      restoreErr();
      for (const s of consoleSpies) {
        places.push([`console.${s.getMockName()}`, s.mock.calls.map((c) => c.map(String).join(' ')).join('\n')]);
        s.mockRestore();
      }
      places.push(['stdout/stderr', written.join('')]);
    }
    expect(places.some(([, t]) => t.includes(`logged-in-as-${user}`))).toBe(true); // the scan does see stored output
    expect(places.filter(([w]) => w.startsWith('open: casefile.db')).length).toBeGreaterThanOrEqual(2); // db and -wal
    for (const [where, text] of places) {
      expect(text.includes(PASSWORD), where).toBe(false);
      expect(text.includes(WRONG_PW), where).toBe(false);
      // Also not as base64 or hex (a careless "encoding" is still the password).
      expect(text.includes(Buffer.from(PASSWORD).toString('base64')), where).toBe(false);
      expect(text.includes(Buffer.from(PASSWORD).toString('hex')), where).toBe(false);
    }
  }, 60_000);
});
