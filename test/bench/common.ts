/**
 * Shared pieces of the benchmark suite: the row type every benchmark returns, peer-tool checks with the
 * Debian package to install, timing and percentile helpers, peak-RSS measurement of a child process, and
 * the generators of large realistic inputs (syslog with kernel NFS messages and hung-task traces, strace
 * -f -tt -T with flock/fcntl, a capture replayed from the lab's real packets). Inputs are generated in a
 * temp dir per run and never committed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  readonly measure: string;
  readonly ours: number | null;
  readonly peer: number | null;
  readonly ratio: number | null;
  readonly goal: number | string;
  readonly pass: boolean;
  readonly unit?: string;
  readonly notes?: string;
}

export interface BenchOpts {
  readonly quick: boolean;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function benchTmp(tag: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `casefile-bench-${tag}-`));
}

/** A peer tool must be installed from Debian; say exactly how when it is not. */
export function requireTool(cmd: string, debianPackage: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) {
    throw new Error(`bench: peer tool '${cmd}' is missing: install it with  apt-get install -y ${debianPackage}`);
  }
  return r.stdout.trim();
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  // nearest-rank definition: the smallest value with at least p% of the samples at or below it
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Peak resident set size in bytes: /usr/bin/time -v "Maximum resident set size" when available, else VmHWM sampled from /proc. */
  readonly peakRssBytes: number | undefined;
}

/** Run a command to completion, measuring wall time and peak RSS. */
export function runMeasured(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<ChildResult> {
  const useTime = existsSync('/usr/bin/time');
  const argv = useTime ? ['-v', cmd, ...args] : [...args];
  const bin = useTime ? '/usr/bin/time' : cmd;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(bin, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let hwmKb = 0;
    const sample = (): void => {
      // Without /usr/bin/time: sample VmHWM (the kernel's own high-water mark) of the child while it runs.
      if (useTime || !p.pid) return;
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 50);
    const killer = opts.timeoutMs ? setTimeout(() => p.pid && process.kill(p.pid, 'SIGKILL'), opts.timeoutMs) : undefined;
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', (e) => {
      clearInterval(timer);
      if (killer) clearTimeout(killer);
      reject(e);
    });
    p.on('close', (code, signal) => {
      clearInterval(timer);
      if (killer) clearTimeout(killer);
      const ms = performance.now() - t0;
      const stderr = Buffer.concat(err).toString();
      let peak: number | undefined = hwmKb > 0 ? hwmKb * 1024 : undefined;
      if (useTime) {
        // time(1) exits with the child's status and reports the child's ru_maxrss (the kernel's peak RSS).
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
        if (m) peak = Number(m[1]) * 1024;
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr, ms, peakRssBytes: peak });
    });
  });
}

// ---- deterministic pseudo-random numbers (inputs are reproducible by seed) ---------------------------
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

/** Writes many short strings to a file through a 1 MiB buffer. */
class LineSink {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  lines = 0;
  bytes = 0;
  constructor(file: string) {
    this.fd = openSync(file, 'w');
  }
  line(s: string): void {
    const need = Buffer.byteLength(s) + 1;
    if (this.used + need > this.buf.length) this.flush();
    if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need * 2);
    this.used += this.buf.write(s, this.used);
    this.buf[this.used++] = 10;
    this.lines++;
    this.bytes += need;
  }
  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');
const p6 = (n: number): string => String(n).padStart(6, '0');

/** Stack frames seen in real hung-task reports of NFS clients (see test/fixtures/logs and investigations.md). */
const NFS_STACKS: readonly (readonly string[])[] = [
  ['__schedule+0x3cc/0xf50', 'schedule+0x23/0xa0', 'rpc_wait_bit_killable+0x11/0x70 [sunrpc]', '__wait_on_bit+0x31/0xa0', 'out_of_line_wait_on_bit+0x8a/0xa0', '__rpc_execute+0x132/0x3f0 [sunrpc]', 'rpc_run_task+0x11c/0x160 [sunrpc]', 'nfs4_call_sync_sequence+0x5c/0x80 [nfsv4]', '_nfs4_proc_getattr+0xcb/0xf0 [nfsv4]', 'nfs4_proc_getattr+0x6a/0x100 [nfsv4]', '__nfs_revalidate_inode+0xd5/0x2c0 [nfs]', 'nfs_getattr+0x1b6/0x2a0 [nfs]', 'vfs_statx+0x8c/0x140', '__do_sys_newstat+0x3d/0x80', 'do_syscall_64+0x71/0x280', 'entry_SYSCALL_64_after_hwframe+0x76/0x7e'],
  ['__schedule+0x3cc/0xf50', 'schedule+0x23/0xa0', 'nfs4_wait_clnt_recover+0x5d/0x90 [nfsv4]', 'nfs4_client_recover_expired_lease+0x21/0x90 [nfsv4]', 'nfs4_do_open+0x2b0/0x9c0 [nfsv4]', 'nfs4_atomic_open+0xe9/0x100 [nfsv4]', 'nfs_atomic_open+0x187/0x6a0 [nfs]', 'path_openat+0x6e2/0x1320', 'do_filp_open+0xb1/0x160', 'do_sys_openat2+0x96/0xd0', '__x64_sys_openat+0x53/0xa0', 'do_syscall_64+0x71/0x280', 'entry_SYSCALL_64_after_hwframe+0x76/0x7e'],
  ['__schedule+0x3cc/0xf50', 'schedule+0x23/0xa0', 'nlmclnt_lock+0x25e/0x5b0 [lockd]', 'nlmclnt_proc+0x137/0x280 [lockd]', 'nfs3_proc_lock+0x2b/0x40 [nfsv3]', 'do_setlk+0x66/0xe0 [nfs]', 'nfs_flock+0x5c/0x70 [nfs]', '__do_sys_flock+0x10e/0x1d0', 'do_syscall_64+0x71/0x280', 'entry_SYSCALL_64_after_hwframe+0x76/0x7e'],
];
const NFS_MESSAGES: readonly ((r: () => number) => string)[] = [
  (r) => `nfs: server filer${1 + Math.floor(r() * 3)} not responding, still trying`,
  (r) => `nfs: server filer${1 + Math.floor(r() * 3)} OK`,
  () => 'lockd: server filer1 not responding, still trying',
  () => 'lockd: server filer1 OK',
  (r) => `NFS: nfs4_reclaim_open_state: Lock reclaim failed! error=${-5 - Math.floor(r() * 3)}`,
  () => 'NFS: state manager: check lease failed on NFSv4 server filer2 with error 10008',
  (r) => `NFS: permission(0:53/${28049412 + Math.floor(r() * 1000)}), mask=0x81, res=0`,
  (r) => `NFS: revalidating (0:53/${28049412 + Math.floor(r() * 1000)})`,
  () => 'nfs4: Deprecated parameter \'intr\'',
  () => 'nlmclnt_lock: VFS is out of sync with lock manager!',
  (r) => `rpc_check_timeout: ${Math.floor(r() * 100)} callbacks suppressed`,
  (r) => `e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: ${r() < 0.5 ? 'None' : 'Rx/Tx'}`,
  (r) => `audit: type=1400 audit(${1700000000 + Math.floor(r() * 1e6)}.${p2(Math.floor(r() * 1000))}:${Math.floor(r() * 9999)}): apparmor="DENIED" operation="open" profile="php-fpm" name="/srv/www/cache/${Math.floor(r() * 500)}.php" pid=${1000 + Math.floor(r() * 30000)} comm="php-fpm8.2"`,
];
const DAEMON_MESSAGES: readonly ((r: () => number) => string)[] = [
  (r) => `rpc.statd[${600 + Math.floor(r() * 50)}]: Received SM_NOTIFY from filer1, state: ${Math.floor(r() * 1000) * 2 + 1}`,
  () => 'rpc.statd[612]: Failed to insert: creating /var/lib/nfs/sm/filer1: Permission denied',
  (r) => `systemd[1]: Started session-${Math.floor(r() * 9000)}.scope - Session of User deploy.`,
  (r) => `php-fpm[${900 + Math.floor(r() * 50)}]: [WARNING] [pool www] child ${2000 + Math.floor(r() * 30000)}, script '/srv/www/index.php' (request: "GET /index.php") executing too slow (${(1 + r() * 9).toFixed(6)} sec), logging`,
  (r) => `CRON[${3000 + Math.floor(r() * 9000)}]: (root) CMD (/usr/local/bin/flock -n /mnt/nfs/locks/backup.lock /usr/local/bin/backup.sh)`,
];

/**
 * A syslog (RFC 3164 stamps, as rsyslog writes /var/log/syslog) whose kernel lines carry the raw dmesg
 * `[seconds.micros]` prefix, mixing NFS/lockd messages, daemon lines and full hung-task reports (each report
 * is ~25 lines: header, "Not tainted", the hint line, task line, Call Trace with <TASK> markers).
 */
export function generateSyslog(file: string, minLines: number, seed = 1): { lines: number; bytes: number } {
  const r = rng(seed);
  const out = new LineSink(file);
  const start = Date.UTC(2026, 10, 21, 8, 0, 0);
  const bootMs = start - 86_400_000; // booted one day before
  let t = start;
  const hosts = ['web1', 'web2', 'web3'];
  while (out.lines < minLines) {
    t += Math.floor(r() * 40);
    const d = new Date(t);
    const host = hosts[Math.floor(r() * hosts.length)]!;
    const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    const up = (t - bootMs) / 1000;
    const ks = (u: number): string => `[${u.toFixed(6).padStart(13, ' ')}]`;
    const x = r();
    if (x < 0.015) {
      const pid = 1000 + Math.floor(r() * 60000);
      const comm = ['php-fpm8.2', 'rsync', 'flock', 'backup.sh', 'ls'][Math.floor(r() * 5)]!;
      const stack = NFS_STACKS[Math.floor(r() * NFS_STACKS.length)]!;
      const pre = `${stamp} ${host} kernel: `;
      out.line(`${pre}${ks(up)} INFO: task ${comm}:${pid} blocked for more than 120 seconds.`);
      out.line(`${pre}${ks(up)}       Not tainted 6.1.0-27-amd64 #1 Debian 6.1.115-1`);
      out.line(`${pre}${ks(up)} "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.`);
      out.line(`${pre}${ks(up)} task:${comm.padEnd(15, ' ')} state:D stack:0     pid:${pid}  ppid:1      flags:0x00000002`);
      out.line(`${pre}${ks(up)} Call Trace:`);
      out.line(`${pre}${ks(up)}  <TASK>`);
      for (const f of stack) out.line(`${pre}${ks(up)}  ${f}`);
      out.line(`${pre}${ks(up)} RIP: 0033:0x7f4af93dd350`);
      out.line(`${pre}${ks(up)} RSP: 002b:00007ffd26a4d698 EFLAGS: 00000202 ORIG_RAX: 0000000000000004`);
      out.line(`${pre}${ks(up)}  </TASK>`);
    } else if (x < 0.8) {
      const m = NFS_MESSAGES[Math.floor(r() * NFS_MESSAGES.length)]!(r);
      out.line(`${stamp} ${host} kernel: ${ks(up)} ${m}`);
    } else {
      out.line(`${stamp} ${host} ${DAEMON_MESSAGES[Math.floor(r() * DAEMON_MESSAGES.length)]!(r)}`);
    }
  }
  out.close();
  return { lines: out.lines, bytes: out.bytes };
}

/**
 * strace output as `strace -f -tt -T -o FILE` writes it (pid prefix per line), from a php-fpm/backup workload on
 * NFS: stat/openat/read/write/close, flock(LOCK_EX) and fcntl(F_SETLKW) with their durations, blocking calls
 * split into `<unfinished ...>` / `<... resumed>` pairs, signals and exits. With `pidPrefix: false` the same
 * trace as `strace -tt -T` of one process writes it (the form lnav 0.11's strace_log format recognises).
 */
export function generateStrace(file: string, minLines: number, seed = 2, pidPrefix = true): { lines: number; bytes: number } {
  const r = rng(seed);
  const out = new LineSink(file);
  let us = (8 * 3600 + 13 * 60) * 1_000_000;
  const pids = [41230, 41231, 41232, 41233, 41240, 41241];
  const pending = new Map<number, string>();
  const ts = (): string => {
    const s = Math.floor(us / 1_000_000);
    return `${p2(Math.floor(s / 3600) % 24)}:${p2(Math.floor(s / 60) % 60)}:${p2(s % 60)}.${p6(us % 1_000_000)}`;
  };
  const dur = (sec: number): string => `<${sec.toFixed(6)}>`;
  const paths = ['/mnt/nfs/www/index.php', '/mnt/nfs/www/vendor/autoload.php', '/mnt/nfs/locks/backup.lock', '/mnt/nfs/cache/sess_8f3a', '/etc/ld.so.cache', '/mnt/nfs/www/config/app.php'];
  while (out.lines < minLines) {
    us += 1 + Math.floor(r() * 400);
    const pid = pids[Math.floor(r() * (pidPrefix ? pids.length : 1))]!;
    const pre = pidPrefix ? `${pid} ${ts()} ` : `${ts()} `;
    const open = pending.get(pid);
    if (open !== undefined) {
      pending.delete(pid);
      out.line(`${pre}<... ${open} resumed>) = 0 ${dur(0.5 + r() * 30)}`);
      continue;
    }
    const x = r();
    const p = paths[Math.floor(r() * paths.length)]!;
    const fd = 3 + Math.floor(r() * 12);
    if (x < 0.25) out.line(`${pre}newfstatat(AT_FDCWD, "${p}", {st_mode=S_IFREG|0644, st_size=${Math.floor(r() * 90000)}, ...}, 0) = 0 ${dur(r() * 0.002)}`);
    else if (x < 0.4) out.line(`${pre}openat(AT_FDCWD, "${p}", O_RDONLY|O_CLOEXEC) = ${fd} ${dur(r() * 0.003)}`);
    else if (x < 0.55) out.line(`${pre}read(${fd}, "<?php\\n\\nnamespace App\\\\Http;\\n\\nuse Illuminate\\\\"..., 8192) = 8192 ${dur(r() * 0.001)}`);
    else if (x < 0.65) out.line(`${pre}write(${fd}, "GET /index.php HTTP/1.1\\r\\nHost: shop"..., ${100 + Math.floor(r() * 900)}) = ${100 + Math.floor(r() * 900)} ${dur(r() * 0.0005)}`);
    else if (x < 0.72) out.line(`${pre}close(${fd}) = 0 ${dur(r() * 0.0001)}`);
    else if (x < 0.78) out.line(`${pre}flock(${fd}, LOCK_EX|LOCK_NB) = ${r() < 0.3 ? '-1 EAGAIN (Resource temporarily unavailable)' : '0'} ${dur(r() * 0.01)}`);
    else if (x < 0.82) {
      if (pidPrefix) {
        out.line(`${pre}flock(${fd}, LOCK_EX <unfinished ...>`);
        pending.set(pid, 'flock');
      } else out.line(`${pre}flock(${fd}, LOCK_EX) = 0 ${dur(0.5 + r() * 30)}`);
    } else if (x < 0.87) out.line(`${pre}fcntl(${fd}, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0 ${dur(r() * 2)}`);
    else if (x < 0.9) out.line(`${pre}fcntl(${fd}, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE) ${dur(0.000004)}`);
    else if (x < 0.92) out.line(`${pre}fcntl(${fd}, F_SETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0 ${dur(r() * 0.01)}`);
    else if (x < 0.95) out.line(`${pre}epoll_wait(${fd}, [{events=EPOLLIN, data={u32=${fd}, u64=${fd}}}], 512, 60000) = 1 ${dur(r() * 0.2)}`);
    else if (x < 0.97) out.line(`${pre}clock_gettime(CLOCK_MONOTONIC, {tv_sec=${86400 + Math.floor(us / 1e6)}, tv_nsec=${Math.floor(r() * 1e9)}}) = 0 ${dur(0.000003)}`);
    else if (x < 0.985) out.line(`${pre}--- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---`);
    else if (x < 0.995) out.line(`${pre}rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call) ${dur(0.000005)}`);
    else out.line(`${pre}stat("/mnt/nfs/www", 0x7ffd5b2f0a90) = -1 EIO (Input/output error) ${dur(5 + r() * 50)}`);
  }
  for (const [pid, name] of pending) out.line(`${pidPrefix ? `${pid} ` : ''}${ts()} <... ${name} resumed>) = 0 ${dur(1)}`);
  out.line(`${pidPrefix ? `${pids[0]} ` : ''}${ts()} +++ exited with 0 +++`);
  out.close();
  return { lines: out.lines, bytes: out.bytes };
}

// ---- captures: replay the lab's real packets -------------------------------------------------------
export const LAB_PCAPS = ['lab__getattr-flood.pcap', 'lab__nlm-conflict.pcap', 'lab__v4-lock-conflict.pcap', 'lab__basic-v3-v4.pcap', 'lab__statd-down.pcap'];

interface Template {
  readonly bytes: Buffer;
  /** Offsets (in bytes) of each record's ts_sec field and of its IPv4 header (or -1). */
  readonly recs: readonly { ts: number; ip: number }[];
  readonly spanSec: number;
}

function loadTemplate(file: string): Template {
  const b = readFileSync(file);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: expected a little-endian microsecond pcap`);
  if (b.readUInt32LE(20) !== 1) throw new Error(`${file}: expected Ethernet link type`);
  const recs: { ts: number; ip: number }[] = [];
  let off = 24;
  let first = -1;
  let last = 0;
  while (off + 16 <= b.length) {
    const sec = b.readUInt32LE(off);
    const incl = b.readUInt32LE(off + 8);
    if (first < 0) first = sec;
    last = sec;
    const frame = off + 16;
    const etherType = b.readUInt16BE(frame + 12);
    recs.push({ ts: off, ip: etherType === 0x0800 ? frame + 14 : -1 });
    off = frame + incl;
  }
  return { bytes: b.subarray(0, off), recs, spanSec: Math.max(1, last - first + 1) };
}

/**
 * Build a capture of about `targetBytes` by replaying the lab's real NFS/NLM captures again and again. Copy k
 * moves both IPv4 addresses into 10.(k>>8).(k&255).x (so each copy is a new set of TCP connections instead of
 * a retransmission of the previous one) and shifts time forward, keeping the packets' RPC content intact.
 */
export function buildReplayCapture(dest: string, targetBytes: number): { bytes: number; copies: number; packets: number } {
  const dir = path.join(repoRoot, 'test', 'fixtures', 'pcaps');
  const templates = LAB_PCAPS.map((f) => loadTemplate(path.join(dir, f)));
  const fd = openSync(dest, 'w');
  writeSync(fd, templates[0]!.bytes.subarray(0, 24));
  let bytes = 24;
  let copies = 0;
  let packets = 0;
  let shift = 0;
  try {
    while (bytes < targetBytes) {
      for (const t of templates) {
        const k = copies + 1;
        const b = Buffer.from(t.bytes); // copy the template, then patch it
        for (const rec of t.recs) {
          b.writeUInt32LE(b.readUInt32LE(rec.ts) + shift, rec.ts);
          if (rec.ip >= 0 && rec.ip + 20 <= b.length) {
            b[rec.ip + 13] = (k >> 8) & 0xff;
            b[rec.ip + 14] = k & 0xff;
            b[rec.ip + 17] = (k >> 8) & 0xff;
            b[rec.ip + 18] = k & 0xff;
          }
        }
        writeSync(fd, b, 24, b.length - 24);
        bytes += b.length - 24;
        packets += t.recs.length;
        shift += t.spanSec + 1;
        copies++;
        if (bytes >= targetBytes) break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, copies, packets };
}

export function mb(bytes: number): number {
  return round(bytes / (1 << 20), 1);
}
