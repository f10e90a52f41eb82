import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { startSshd, type SshdLab } from '../lab/sshd';

/**
 * The walking skeleton end to end, as a new user runs it: the real CLI (bin/casefile.mjs) against a real
 * OpenSSH server on a free loopback port, with its own HOME (~/.ssh/config alias, known_hosts) and a fresh
 * CASEFILE_HOME; then the Markdown export.
 */
const root = resolve(__dirname, '..', '..');
const bin = join(root, 'bin', 'casefile.mjs');

let lab: SshdLab;
let unknownLab: SshdLab;
let data: string;

function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, HOME: lab.home, CASEFILE_HOME: data, SSH_AUTH_SOCK: '', CASEFILE_QUIET: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  lab = await startSshd({ alias: 'web-1' });
  unknownLab = await startSshd({ alias: 'stranger', knownHosts: false });
  data = mkdtempSync(join(tmpdir(), 'cf-home-'));
});
afterAll(async () => {
  for (const l of [lab, unknownLab]) {
    await l?.stop();
    await l?.cleanup();
  }
  rmSync(data, { recursive: true, force: true });
});

describe('casefile CLI over a real sshd', () => {
  it('runs host-snapshot headless and exports a report with the host\'s uname -r', () => {
    const r = cli(['run', 'host-snapshot', '--host', 'web-1', '--case', 'demo', '--yes']);
    expect(r.stderr).toContain('run 1 of host-snapshot');
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.case).toBe('demo');
    const out = join(data, 'demo.md');
    const e = cli(['export', 'demo', '--format', 'md', '-o', out]);
    expect(e.code).toBe(0);
    const md = readFileSync(out, 'utf8');
    const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
    expect(md).toContain(release);
    expect(md).toMatch(/## Hosts[\s\S]*web-1[\s\S]*SHA256:/);
    expect(md).toMatch(/clock offset/);
    expect(md).toMatch(/sha256 `[0-9a-f]{64}`/);
    expect(md).toContain('dmesg');
    // Every step recorded its exact command and exit status.
    const db = new Database(join(data, 'casefile.db'), { readonly: true });
    const steps = db.prepare('SELECT step_key, status, command, exit_code FROM steps').all() as { step_key: string; status: string; command: string; exit_code: number | null }[];
    db.close();
    expect(steps.length).toBeGreaterThanOrEqual(4);
    for (const s of steps) expect(s.command).toMatch(/timeout -s KILL \d+ /);
    expect(steps.filter((s) => s.status === 'ok').length).toBeGreaterThanOrEqual(3);
  });

  it('refuses an unknown host key headless, naming its fingerprint, and accepts it when told to', () => {
    const dest = `127.0.0.1:${unknownLab.port}`;
    const env = { HOME: unknownLab.home };
    const refused = cli(['exec', '--host', dest, '--case', 'keys', '--', 'true'], env);
    expect(refused.code).not.toBe(0);
    const fp = /fingerprint (SHA256:[A-Za-z0-9+/]{43})/.exec(refused.stderr)?.[1];
    expect(fp, refused.stderr).toBeDefined();
    const expected = execFileSync('ssh-keygen', ['-lf', `${unknownLab.hostKeyPath}.pub`], { encoding: 'utf8' }).split(' ')[1];
    expect(fp).toBe(expected);
    expect(unknownLab.log()).not.toMatch(/userauth-request|Accepted publickey|Failed publickey/);
    const ok = cli(['exec', '--host', dest, '--case', 'keys', '--accept-host-key', fp!, '--', 'echo', 'hello'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('hello');
    // Recorded (possibly hashed, as OpenSSH's HashKnownHosts does): ssh-keygen -F finds it either way.
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${unknownLab.port}`, '-f', join(unknownLab.home, '.ssh', 'known_hosts')], { encoding: 'utf8' });
    expect(found).toMatch(/ssh-ed25519/);
  });

  it('ends a command that never returns at its deadline, as timed-out, keeping its partial output', () => {
    const t0 = Date.now();
    const r = cli(['exec', '--host', 'web-1', '--case', 'hang', '--timeout', '3s', '--', 'sh', '-c', 'echo partial-output; sleep 1000']);
    const took = (Date.now() - t0) / 1000;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/timed-out/);
    expect(took).toBeLessThan(20);
    const db = new Database(join(data, 'casefile.db'), { readonly: true });
    const row = db.prepare("SELECT s.status, s.started_ns, s.ended_ns, a.id AS art FROM steps s JOIN artifacts a ON a.step_id = s.id AND a.stream = 'stdout' JOIN cases c ON c.id = s.case_id WHERE c.name = 'hang'").safeIntegers(true).get() as { status: string; started_ns: bigint; ended_ns: bigint; art: bigint };
    const bytes = Buffer.concat(db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? ORDER BY seq').pluck().all(row.art) as Buffer[]);
    db.close();
    expect(row.status).toBe('timed-out');
    const secs = Number(row.ended_ns - row.started_ns) / 1e9;
    expect(secs).toBeGreaterThan(2.5);
    expect(secs).toBeLessThan(3 + 2 + 2);
    expect(bytes.toString()).toBe('partial-output\n');
  });

  it('rejects a parameter with shell metacharacters before anything runs', () => {
    const canary = join(data, 'canary');
    const r = cli(['run', 'stuck-process', '--host', 'web-1', '--case', 'inject', '--yes', '--param', `pid=1; touch ${canary}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pid/);
    expect(existsSync(canary)).toBe(false);
    const db = new Database(join(data, 'casefile.db'), { readonly: true });
    const n = db.prepare("SELECT count(*) FROM steps s JOIN cases c ON c.id = s.case_id WHERE c.name = 'inject'").pluck().get();
    db.close();
    expect(n).toBe(0);
  });

  it('reports an unreachable host clearly within its connect timeout', () => {
    const cfg = join(lab.home, '.ssh', 'config');
    writeFileSync(cfg, `${readFileSync(cfg, 'utf8')}\nHost nowhere\n  HostName 127.0.0.1\n  Port 9\n  ConnectTimeout 3\n`);
    const t0 = Date.now();
    const r = cli(['exec', '--host', 'nowhere', '--case', 'down', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/connect|refused|unreachable/i);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});

describe('casefile CLI without SSH', () => {
  it('stops with a clear message on a Node older than 22.14', () => {
    const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && execFileSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.')[0]! < '22');
    if (!old) {
      // No old Node on this machine: run the same check with a faked version to exercise the message.
      const r = spawnSync(process.execPath, ['-e', `Object.defineProperty(process.versions, 'node', { value: '20.1.0' }); process.argv = [process.argv[0], ${JSON.stringify(bin)}, 'cases']; await import(${JSON.stringify(bin)})`], { encoding: 'utf8', env: { ...process.env, CASEFILE_REEXEC: '1' }, input: '' });
      expect(r.stderr).toMatch(/Node 20\.1\.0 is too old: Casefile needs Node 22\.14 or newer/);
      return;
    }
    const r = spawnSync(old, [bin, 'cases'], { encoding: 'utf8', env: { ...process.env, CASEFILE_REEXEC: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is too old: Casefile needs Node 22\.14 or newer/);
    expect(r.stderr).toMatch(/dev\.sh setup/);
  });

  it('parses raw dmesg into JSON lines with wall times from the given boot instant', () => {
    const f = join(data, 'dmesg.txt');
    writeFileSync(f, '[    5.123456] lockd: server 10.0.0.5 not responding, still trying\n[   19.000001] lockd: server 10.0.0.5 OK\n');
    const r = spawnSync(process.execPath, [bin, 'parse', f, '--boot-time', '2026-11-21T10:00:00Z'], { encoding: 'utf8', env: { ...process.env, CASEFILE_HOME: data } });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.kind, l.ts, l.text])).toEqual([
      ['kernel', '2026-11-21T10:00:05.123456000Z', 'lockd: server 10.0.0.5 not responding, still trying'],
      ['kernel', '2026-11-21T10:00:19.000001000Z', 'lockd: server 10.0.0.5 OK'],
    ]);
  });

  it('stats prints the SRT table tshark prints for the same capture; a truncated capture is marked partial; a log is refused', () => {
    const fixtures = join(root, 'test', 'fixtures');
    const pcap = join(fixtures, 'pcaps', 'lab__basic-v3-v4.pcap');
    const stats = (f: string) => spawnSync(process.execPath, [bin, 'stats', f], { encoding: 'utf8', env: { ...process.env, CASEFILE_HOME: data } });
    const r = stats(pcap);
    expect(r.status, r.stderr).toBe(0);
    const tshark = readFileSync(join(fixtures, 'tshark', 'lab__basic-v3-v4.pcap.srt.txt'), 'utf8');
    const getattr = tshark.split('\n').find((l) => /^\s+1\s+GETATTR\s/.test(l));
    expect(getattr).toBeDefined();
    expect(r.stdout.split('\n')).toContain(getattr);
    expect(r.stdout).not.toMatch(/partial/);
    // Cut mid-packet: what was whole is still tabulated, and the output says the result is partial.
    const bytes = readFileSync(pcap);
    const cut = join(data, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6) + 3));
    const p = stats(cut);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/GETATTR/);
    expect(p.stdout).toMatch(/warnings \(partial result\)/);
    const log = join(data, 'not-a-capture.log');
    writeFileSync(log, 'Nov 21 08:00:01 web1 kernel: lockd: server 10.0.0.5 not responding\n');
    const bad = stats(log);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/not a pcap\/pcapng capture/);
  });
});
