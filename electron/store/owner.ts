/**
 * Which process owns a run, a step or an artifact still in progress, and whether that process is still alive.
 *
 * Several Casefile processes may share one data directory: the desktop app, a `casefile run` in a terminal, a
 * `casefile serve`. At startup the long-lived front ends clean up what a killed process left half-done (runs and
 * steps shown as running for ever, artifacts left pending). They must not touch what another process is doing
 * right now, so each in-progress row records its owner, and only rows whose owner is gone are recovered.
 *
 * On Linux the owner is `linux:BOOT_ID:PID:STARTTIME` (STARTTIME is field 22 of /proc/PID/stat, in clock ticks
 * since boot): the owner is alive only if this boot's id matches and the same PID still has the same start time,
 * so a PID reused by an unrelated process after a crash does not count. Elsewhere it is `PLATFORM:HOST:PID`,
 * and a process with that PID existing counts as alive (a reused PID then delays the clean-up until it exits,
 * the safe side).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

let bootId: string | undefined | null = null;

function linuxBootId(): string | undefined {
  if (bootId === null) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootId = undefined;
    }
  }
  return bootId;
}

/** Field 22 (starttime) of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
function linuxStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22.
  const st = rest[19];
  return st !== undefined && /^\d+$/.test(st) ? st : undefined;
}

/** The owner token of process `pid` (default: this process), or undefined if it does not exist. */
export function ownerOf(pid: number = process.pid): string | undefined {
  if (process.platform === 'linux') {
    const boot = linuxBootId();
    const start = linuxStartTime(pid);
    if (boot !== undefined && start !== undefined) return `linux:${boot}:${pid}:${start}`;
    if (start === undefined && boot !== undefined) return undefined;
  }
  return `${process.platform}:${os.hostname()}:${pid}`;
}

let mine: string | undefined;
/** This process's owner token (computed once). */
export function currentOwner(): string {
  mine ??= ownerOf(process.pid) ?? `${process.platform}:${os.hostname()}:${process.pid}`;
  return mine;
}

/**
 * Whether the process that wrote `owner` is still running. No owner (rows written before owners were recorded)
 * or a token this build cannot read counts as gone: nothing could still be working on such a row.
 */
export function ownerAlive(owner: string | null | undefined): boolean {
  if (!owner) return false;
  if (owner === currentOwner()) return true;
  const linux = /^linux:([^:]+):(\d+):(\d+)$/.exec(owner);
  if (linux) {
    if (process.platform !== 'linux' || linux[1] !== linuxBootId()) return false; // another boot (or machine): gone
    return linuxStartTime(Number(linux[2])) === linux[3];
  }
  const other = /^([a-z0-9]+):(.*):(\d+)$/.exec(owner);
  if (!other || other[1] !== process.platform || other[2] !== os.hostname()) return false;
  try {
    process.kill(Number(other[3]), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
