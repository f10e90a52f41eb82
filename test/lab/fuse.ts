/**
 * A process genuinely stuck in the kernel, for tests: fuse-stuck.c is a libfuse3 filesystem whose FLOCK
 * handler never answers until SIGUSR1, so `flock -x MNT/lockme` sleeps in the kernel inside the FUSE request
 * wait (fs/fuse/dev.c request_wait_answer). Built once per source version into a cache dir with gcc and
 * `pkg-config fuse3`. Cleanup answers every parked request (SIGUSR1), then unmounts with fusermount3 -u.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, closeSync, rmSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, killPid, run, waitFor } from './proc';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface FuseStuck {
  readonly mountPoint: string;
  readonly daemonPid: number;
  /** PID of `flock -x` blocked in the kernel on MNT/lockme. */
  readonly stuckPid: number;
  readonly daemonLog: () => string;
  /** Start `dd` writing MNT/hangwrite: it parks in FUSE_WRITE holding the inode lock, so a second writer then
   *  sleeps uninterruptibly (D, immune to SIGKILL) on that lock. Returns dd's PID. */
  startWriter(): Promise<number>;
  release(): Promise<void>;
}

function need(cmd: string, pkg: string): void {
  if (run('sh', ['-c', `command -v ${cmd}`], { allowFail: true }).code !== 0) throw new Error(`test lab (fuse): '${cmd}' not found: apt-get install ${pkg}`);
}

/** Compile fuse-stuck.c (cached by content hash) and return the binary path. */
export function buildFuseStuck(): string {
  const src = path.join(here, 'fuse-stuck.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const cache = path.join(os.tmpdir(), 'casefile-lab-cache');
  const bin = path.join(cache, `fuse-stuck-${hash}`);
  if (existsSync(bin)) return bin;
  need('gcc', 'gcc');
  need('pkg-config', 'pkg-config');
  if (run('pkg-config', ['--exists', 'fuse3'], { allowFail: true }).code !== 0) throw new Error('test lab (fuse): fuse3 headers not found: apt-get install libfuse3-dev');
  const flags = run('pkg-config', ['--cflags', '--libs', 'fuse3']).stdout.trim().split(/\s+/);
  mkdirSync(cache, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  run('gcc', ['-O2', '-Wall', '-o', tmp, src, ...flags]);
  renameSync(tmp, bin); // atomic: parallel test files never run a half-written binary
  return bin;
}

export async function startFuseStuck(): Promise<FuseStuck> {
  if (process.getuid?.() !== 0) throw new Error('test lab (fuse): must run as root (FUSE mount, strace of another process)');
  if (!existsSync('/dev/fuse')) throw new Error('test lab (fuse): /dev/fuse missing: FUSE is not available on this machine');
  need('fusermount3', 'fuse3');
  need('flock', 'util-linux');
  const bin = buildFuseStuck();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-fuse-'));
  const mnt = path.join(dir, 'mnt');
  mkdirSync(mnt);
  const logPath = path.join(dir, 'daemon.log');
  const logFd = openSync(logPath, 'w');
  const daemon: ChildProcess = spawn(bin, [mnt, '-f'], { stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  const daemonLog = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const mounted = (): boolean => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mnt);
  try {
    await waitFor(`fuse-stuck to mount ${mnt} (${daemonLog().trim()})`, mounted, 20_000);
  } catch (e) {
    killPid(daemon.pid!);
    throw e;
  }
  const flock = spawn('flock', ['-x', path.join(mnt, 'lockme'), '-c', 'true'], { stdio: 'ignore' });
  await waitFor('flock to park in FUSE', () => daemonLog().includes('parked FLOCK'), 20_000);
  let released = false;
  const writers: number[] = [];
  return {
    startWriter: async () => {
      const dd = spawn('dd', ['if=/dev/zero', `of=${path.join(mnt, 'hangwrite')}`, 'bs=16', 'count=1', 'conv=notrunc'], { stdio: 'ignore' });
      writers.push(dd.pid!);
      await waitFor('dd to park in FUSE_WRITE', () => daemonLog().includes('parked WRITE'), 20_000);
      return dd.pid!;
    },
    mountPoint: mnt,
    daemonPid: daemon.pid!,
    stuckPid: flock.pid!,
    daemonLog,
    release: async () => {
      if (released) return;
      released = true;
      killPid(daemon.pid!, 'SIGUSR1');
      await waitFor('flock to finish after release', () => !alive(flock.pid!), 5000).catch(() => {
        killPid(daemon.pid!, 'SIGUSR1');
      });
      run('fusermount3', ['-u', mnt], { allowFail: true });
      killPid(daemon.pid!, 'SIGTERM');
      await waitFor('fuse daemon exit', () => !alive(daemon.pid!), 3000).catch(() => killPid(daemon.pid!, 'SIGKILL'));
      for (const p of [flock.pid!, ...writers]) if (alive(p)) killPid(p, 'SIGKILL');
      if (mounted()) run('umount', ['-l', mnt], { allowFail: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
