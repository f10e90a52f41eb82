/**
 * Owner tokens of in-progress rows (electron/store/owner.ts), against real processes: this one, a running
 * `sleep`, the same after it was killed, a token whose PID is alive but belongs to another process start, a
 * token from another boot, and a process whose name holds ") " (the /proc/PID/stat field parsing).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentOwner, ownerAlive, ownerOf } from '../../electron/store/owner';

const started: ChildProcess[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'casefile-owner-'));
afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function start(cmd: string, args: string[]): { p: ChildProcess; exited: Promise<void> } {
  const p = spawn(cmd, args, { stdio: 'ignore' });
  started.push(p);
  return { p, exited: new Promise((resolve) => p.on('exit', () => resolve())) };
}

describe('owner tokens', () => {
  it('this process is alive; a process is alive while it runs and gone once killed', async () => {
    expect(ownerAlive(currentOwner())).toBe(true);
    expect(ownerOf()).toBe(currentOwner());
    const { p, exited } = start('sleep', ['30']);
    const token = ownerOf(p.pid!)!;
    expect(token).toMatch(new RegExp(`^linux:[0-9a-f-]{36}:${p.pid}:\\d+$`));
    expect(ownerAlive(token)).toBe(true);
    p.kill('SIGKILL');
    await exited;
    expect(ownerAlive(token)).toBe(false);
    expect(ownerOf(p.pid!)).toBeUndefined();
  });

  it('a reused PID (same PID, another start time) and a token from another boot count as gone', () => {
    const mine = currentOwner();
    const [, boot, pid, startTime] = /^linux:([^:]+):(\d+):(\d+)$/.exec(mine)!;
    expect(ownerAlive(`linux:${boot}:${pid}:${Number(startTime) + 1}`)).toBe(false);
    expect(ownerAlive(`linux:00000000-0000-0000-0000-000000000000:${pid}:${startTime}`)).toBe(false);
  });

  it('no owner (rows from before owners were recorded) and unreadable tokens count as gone', () => {
    for (const t of [null, undefined, '', 'garbage', 'linux:x:y:z', `darwin:${os.hostname()}:abc`, `${process.platform}:other-host:${process.pid}`]) expect(ownerAlive(t), String(t)).toBe(false);
  });

  it('reads the start time past a command name holding ") " and spaces', async () => {
    const odd = path.join(tmp, 'a) b (c');
    symlinkSync('/usr/bin/sleep', odd);
    const { p, exited } = start(odd, ['30']);
    // Wait for exec to replace the forked image, so the name in /proc/PID/stat is the odd one.
    for (let i = 0; i < 100 && readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() !== 'a) b (c'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(`/proc/${p.pid}/stat`, 'utf8')).toContain('(a) b (c) ');
    const token = ownerOf(p.pid!)!;
    const ticks = Number(token.split(':')[3]);
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    const bootSec = Date.now() / 1000 - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    // Its start time, from the token, is within a few seconds of now (a misparsed field would be far off or NaN).
    expect(Math.abs(bootSec + ticks / hz - Date.now() / 1000)).toBeLessThan(5);
    expect(ownerAlive(token)).toBe(true);
    p.kill('SIGKILL');
    await exited;
    expect(ownerAlive(token)).toBe(false);
  });
});
