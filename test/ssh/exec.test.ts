/**
 * Command execution over a real sshd on loopback (the "remote" host is this machine, so the tests can look at
 * remote processes in /proc directly): quoting, byte-exact streaming, deadlines, cancellation, processes stuck
 * in the kernel (a FUSE filesystem that never answers), sudo, SFTP, multiplexing and resource cleanup.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDestination } from '../../electron/ssh/config';
import type { ExecResult } from '../../electron/ssh/exec';
import { shellQuote, ShellQuoteError } from '../../electron/ssh/quote';
import { HostSession } from '../../electron/ssh/session';
import { startFuseStuck, type FuseStuck } from '../lab/fuse';
import { alive, waitFor } from '../lab/proc';
import { startSshd, type SshdLab } from '../lab/sshd';

let lab: SshdLab;
let s: HostSession;
let tmp: string;

const NASTY = ['1; rm -rf /', '$(touch /tmp/casefile-pwned)', '`touch /tmp/casefile-pwned`', "it's", '"double"', 'new\nline', '', ' lead', '*', '~', '\\', '$HOME', '!x', '-n', '\u00e9\u2603', '&&', '|', '>/tmp/casefile-pwned'];

interface Collected {
  r: ExecResult;
  out: Buffer;
  err: Buffer;
}
async function run(argvOrScript: { argv: string[] } | { script: string }, o: { timeoutSec?: number; sudo?: boolean; signal?: AbortSignal; onFirstOut?: () => void } = {}): Promise<Collected> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const r = await s.exec(argvOrScript, {
    ...(o.timeoutSec !== undefined ? { timeoutSec: o.timeoutSec } : {}),
    ...(o.sudo !== undefined ? { sudo: o.sudo } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onStdout: (b) => {
      if (out.length === 0) o.onFirstOut?.();
      out.push(b);
    },
    onStderr: (b) => err.push(b),
  });
  return { r, out: Buffer.concat(out), err: Buffer.concat(err) };
}

function secs(r: ExecResult): number {
  return Number(r.endedAtNs - r.startedAtNs) / 1e9;
}

beforeAll(async () => {
  lab = await startSshd();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'casefile-exec-'));
  s = await HostSession.connect(resolveDestination(lab.alias, { home: lab.home }), { env: {} });
});
afterAll(async () => {
  s?.dispose();
  await lab?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('shellQuote', () => {
  it('round-trips hostile arguments through a real local sh', () => {
    const r = spawnSync('sh', ['-c', `printf '%s\\0' ${shellQuote(NASTY)}`], { encoding: 'utf8' });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(NASTY);
    expect(existsSync('/tmp/casefile-pwned')).toBe(false);
  });
  it('leaves plain words bare, quotes the rest, rejects NUL and empty argv', () => {
    expect(shellQuote(['uname', '-r', '/proc/locks'])).toBe('uname -r /proc/locks');
    expect(shellQuote(["it's"])).toBe(`'it'\\''s'`);
    expect(shellQuote([''])).toBe(`''`);
    expect(() => shellQuote(['a\0b'])).toThrow(ShellQuoteError);
    expect(() => shellQuote([])).toThrow(ShellQuoteError);
  });
});

describe('exec', () => {
  it('passes hostile argv to the remote program unchanged, nothing executed', async () => {
    const { r, out } = await run({ argv: ['printf', '%s\\0', ...NASTY] });
    expect(r.status).toBe('ok');
    expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(NASTY);
    expect(existsSync('/tmp/casefile-pwned')).toBe(false);
    expect(r.remoteCommand).toContain(`'1; rm -rf /'`);
  });

  it('reports exit status, separates stderr, strips the PID marker, records timing and the exact command', async () => {
    const { r, out, err } = await run({ script: 'echo out; echo err >&2; exit 7' }, { timeoutSec: 10 });
    expect(r).toMatchObject({ status: 'failed', exitCode: 7, timeoutSec: 10, stdoutBytes: 4, stderrBytes: 4 });
    expect(out.toString()).toBe('out\n');
    expect(err.toString()).toBe('err\n');
    expect(r.remoteCommand).toBe(`sh -c 'echo "@@casefile-pid=$$@@" >&2; exec timeout -s KILL 10 "$@"' casefile sh -c 'echo out; echo err >&2; exit 7'`);
    expect(r.remotePid).toBeGreaterThan(1);
    expect(r.endedAtNs).toBeGreaterThan(r.startedAtNs);
  });

  it('streams non-UTF-8 and large output byte-exact', async () => {
    const bin = await run({ script: "printf '\\377\\376\\000\\200abc\\303\\050\\n'" });
    expect([...bin.out]).toEqual([0xff, 0xfe, 0x00, 0x80, 0x61, 0x62, 0x63, 0xc3, 0x28, 0x0a]);
    const file = path.join(tmp, 'big.bin');
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(file, data);
    const big = await run({ argv: ['cat', file] }, { timeoutSec: 20 });
    expect(big.r.status).toBe('ok');
    expect(big.r.stdoutBytes).toBe(data.length);
    expect(createHash('sha256').update(big.out).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('a command that never returns ends at its deadline as timed-out, with its partial output', async () => {
    const { r, out } = await run({ script: 'echo started; echo half-line-no-newline | tr -d "\\n"; sleep 1000' }, { timeoutSec: 2 });
    expect(r.status).toBe('timed-out');
    expect(out.toString()).toBe('started\nhalf-line-no-newline');
    expect(secs(r)).toBeGreaterThanOrEqual(1.9);
    expect(secs(r)).toBeLessThanOrEqual(4);
    expect(r.stuck?.note).toMatch(/sleep \(pid \d+\)/);
    expect(r.stuck?.wchan).toMatch(/nanosleep|hrtimer/);
    await waitFor('the remote sleep to be gone', () => !r.stuck?.pid || !alive(r.stuck.pid), 3000);
  });

  it('at the deadline also kills what escaped into its own session (setsid), as seen in the last snapshot', async () => {
    const { r } = await run({ script: 'setsid sleep 1001 & wait' }, { timeoutSec: 2 });
    expect(r.status).toBe('timed-out');
    const escaped = r.stuck?.processes?.find((p) => p.comm === 'sleep');
    expect(escaped, JSON.stringify(r.stuck, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toBeDefined();
    await waitFor('the escaped sleep to be killed', () => !alive(escaped!.pid), 5000);
  });

  it('cancel closes the channel, kills the remote process and reports cancelled', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const { r, out } = await run({ script: 'echo go; exec sleep 1000' }, { timeoutSec: 60, signal: ac.signal, onFirstOut: () => setTimeout(() => ac.abort(), 100) });
    expect(r.status).toBe('cancelled');
    expect(out.toString()).toBe('go\n');
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(r.remotePid).toBeDefined();
    await waitFor('remote process killed', () => !alive(r.remotePid!), 5000);
  });

  it('sudo -n: runs as root, or says clearly that root is needed (sudo absent or wanting a password)', async () => {
    const hasSudo = (await run({ script: 'command -v sudo' })).r.status === 'ok';
    const { r, out } = await run({ argv: ['id', '-u'] }, { sudo: true });
    expect(r.remoteCommand).toContain('exec sudo -n timeout -s KILL');
    if (hasSudo) {
      expect(r.status).toBe('ok');
      expect(out.toString().trim()).toBe('0');
    } else {
      expect(r.status).toBe('needs-root');
      expect(r.note).toMatch(/sudo is not installed/);
    }
  });

  it('multiplexes more commands than sshd MaxSessions over one connection', async () => {
    const mark = lab.log().length;
    const results = await Promise.all(Array.from({ length: 14 }, (_, i) => run({ script: `sleep 0.2; echo ${i}` })));
    expect(results.map((x) => x.r.status), JSON.stringify(results.map((x) => [x.r.status, x.r.exitCode, x.r.note]))).toEqual(Array(14).fill('ok'));
    expect(results.map((x) => x.out.toString())).toEqual(Array.from({ length: 14 }, (_, i) => `${i}\n`));
    expect(lab.log().slice(mark)).not.toMatch(/Accepted publickey/); // no new connection was made
  });

  it('fetches a file over SFTP chunk by chunk', async () => {
    const file = path.join(tmp, 'sftp.bin');
    const data = randomBytes(700_000);
    writeFileSync(file, data);
    const chunks: Buffer[] = [];
    const { bytes } = await s.sftpGet(file, (c) => chunks.push(c));
    expect(bytes).toBe(data.length);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    await expect(s.sftpGet(path.join(tmp, 'missing'), () => undefined)).rejects.toThrow(/No such file/);
  });

  it('measured the clock offset and boot time at connect', () => {
    const c = s.clock!;
    expect(c.samples).toBe(5);
    // Same machine: the offset is within its own uncertainty (plus a little scheduling noise).
    const abs = c.offsetNs < 0n ? -c.offsetNs : c.offsetNs;
    expect(abs).toBeLessThanOrEqual(c.uncertaintyNs + 5_000_000n);
    const uptime = Number(spawnSync('cat', ['/proc/uptime'], { encoding: 'utf8' }).stdout.split(' ')[0]);
    const bootMs = Date.now() - uptime * 1000;
    expect(Math.abs(Number(c.bootTimeNs! / 1_000_000n) - bootMs)).toBeLessThan(2000);
    expect(s.hasTimeout).toBe(true);
  });
});

describe('processes stuck in the kernel (FUSE lab)', () => {
  let fuse: FuseStuck;
  beforeAll(async () => {
    fuse = await startFuseStuck();
  });
  afterAll(async () => {
    await fuse?.release();
  });

  it('strace -p of the FUSE-stuck process ends at its deadline and the stuck task is recorded', async () => {
    const { r, err } = await run({ argv: ['strace', '-p', String(fuse.stuckPid)] }, { timeoutSec: 3 });
    expect(r.status).toBe('timed-out');
    expect(err.toString()).toContain(`Process ${fuse.stuckPid} attached`);
    expect(secs(r)).toBeGreaterThanOrEqual(2.9);
    expect(secs(r)).toBeLessThanOrEqual(5);
    expect(r.stuck).toMatchObject({ pid: fuse.stuckPid, state: 'D', wchan: 'request_wait_answer' });
    expect(r.stuck?.processes?.some((p) => p.comm === 'strace')).toBe(true);
    // the session is still usable right after
    expect((await run({ argv: ['true'] })).r.status).toBe('ok');
  });

  it('a writer that SIGKILL cannot stop ends at the local deadline (timeout + 2 s), recorded with its D state', async () => {
    await fuse.startWriter();
    const target = path.join(fuse.mountPoint, 'hangwrite');
    const { r } = await run({ script: `echo second >> ${shellQuote([target])}` }, { timeoutSec: 2 });
    expect(r.status).toBe('timed-out');
    expect(r.note).toMatch(/local deadline.*unkillable/);
    expect(secs(r)).toBeGreaterThanOrEqual(3.9);
    expect(secs(r)).toBeLessThanOrEqual(5);
    expect(r.stuck?.state).toBe('D');
    expect(r.stuck?.note).toMatch(/uninterruptible sleep \(D\)/);
  });
});

describe('dispose', () => {
  it('closes every socket it opened', async () => {
    const sockets = (): number => process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap').length;
    const before = sockets();
    const extra = await HostSession.connect(resolveDestination(lab.alias, { home: lab.home }), { env: {} });
    expect(sockets()).toBe(before + 1);
    await extra.exec({ argv: ['true'] });
    extra.dispose();
    await waitFor('socket closed', () => sockets() === before, 3000);
    await expect(extra.exec({ argv: ['true'] })).rejects.toThrow(/disposed/);
  });
});
