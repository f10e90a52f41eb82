/**
 * Small process helpers for the lab: run a command to completion, find a process's descendants from /proc
 * (so we kill only what we started, by PID), wait for conditions with a bound.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

export function run(cmd: string, args: readonly string[], opts: { input?: string; allowFail?: boolean } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: 30_000 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  const out = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if (!opts.allowFail && out.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${out.code}: ${out.stderr.trim()}`);
  return out;
}

/** All descendants of `pid` (children first-level order), from /proc/PID/stat ppid fields. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      // process went away
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function killPid(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Kill a process and everything under it, by PID. For SIGKILL the whole tree is frozen first (SIGSTOP), so no
 * member can react to another's death (a shell running its next command, sshd forwarding an exit status)
 * in between: the tree dies as one, like a crashed host.
 */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (signal === 'SIGKILL') {
    killPid(pid, 'SIGSTOP');
    for (const p of descendants(pid)) killPid(p, 'SIGSTOP');
  }
  const all = descendants(pid);
  killPid(pid, signal);
  for (const p of all.reverse()) killPid(p, signal);
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  if (!cond()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function canConnect(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}
