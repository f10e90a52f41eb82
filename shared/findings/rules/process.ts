import { argsOf, commOf, Ctx, elapsedSeconds, fmtSeconds, frames, num, pidOf, procState, secondsBetween, str, type Ix } from '../context';
import { classifyLockWait, isNfsFrame, KERNEL_THREAD_RE, LOCK_SYSCALL_FRAMES, MOUNT_COMMS, MOUNT_RACE_FRAMES, NFS_LOCK_FRAMES, type LockWaitClass } from '../patterns';
import type { EvidenceRef, Finding, RuleMeta, StepRecord } from '../types';
import { groupBy, make, type Rule } from './rule';

/** Per (host, pid): every process sample, stack snapshot, strace record and /proc/PID/syscall we have. */
interface ProcView {
  readonly host: string;
  readonly pid: number;
  readonly samples: Ix[];
  readonly stacks: Ix[];
  readonly syscalls: Ix[];
  readonly procSyscall: Ix[];
  readonly hung: Ix[];
}

function key(host: string, pid: number): string {
  return `${host}\u0000${pid}`;
}

export function processViews(ctx: Ctx): Map<string, ProcView> {
  const m = new Map<string, ProcView>();
  const get = (x: Ix, pid: number): ProcView => {
    const k = key(x.host, pid);
    let v = m.get(k);
    if (!v) {
      v = { host: x.host, pid, samples: [], stacks: [], syscalls: [], procSyscall: [], hung: [] };
      m.set(k, v);
    }
    return v;
  };
  for (const x of ctx.of('process')) {
    const pid = pidOf(x.e);
    if (pid === undefined) continue;
    if (x.e.artifactKind === 'proc-syscall' || num(x.e, 'nr', 'syscallNr') !== undefined) get(x, pid).procSyscall.push(x);
    if (procState(x.e) !== undefined) get(x, pid).samples.push(x);
  }
  for (const x of ctx.of('stack')) {
    const pid = pidOf(x.e);
    if (pid !== undefined) get(x, pid).stacks.push(x);
  }
  for (const x of ctx.of('syscall')) {
    const pid = pidOf(x.e);
    if (pid === undefined) continue;
    if (x.e.artifactKind === 'proc-syscall' || (num(x.e, 'nr') !== undefined && str(x.e, 'syscall') === undefined)) get(x, pid).procSyscall.push(x);
    else get(x, pid).syscalls.push(x);
  }
  for (const x of ctx.of('signal')) {
    const pid = pidOf(x.e);
    if (pid !== undefined && str(x.e, 'what') === 'attached') get(x, pid).syscalls.push(x);
  }
  for (const x of ctx.of('kernel')) {
    const ht = x.e.data.hungTask as { pid?: unknown } | undefined;
    if (ht && typeof ht.pid === 'number') get(x, ht.pid).hung.push(x);
  }
  return m;
}

function latestSample(v: ProcView): Ix | undefined {
  return v.samples[v.samples.length - 1];
}

function isKernelThread(v: ProcView): boolean {
  for (const s of v.samples) {
    const comm = commOf(s.e) ?? '';
    const args = argsOf(s.e) ?? '';
    if (KERNEL_THREAD_RE.test(comm) || /^\[.*\]$/.test(args.trim()) || num(s.e, 'ppid') === 2) return true;
  }
  return false;
}

function allFrames(v: ProcView): string[] {
  const out: string[] = [];
  for (const s of [...v.stacks, ...v.hung]) for (const f of frames(s.e)) if (!out.includes(f)) out.push(f);
  return out;
}

function name(v: ProcView): string {
  const s = latestSample(v);
  const comm = (s && commOf(s.e)) ?? (v.stacks[0] && str(v.stacks[0].e, 'comm'));
  return comm ? `${comm} (pid ${v.pid})` : `pid ${v.pid}`;
}

function topFrames(fns: readonly string[], n = 4): string {
  return fns.slice(0, n).join(' < ') || '(no stack)';
}

// --- proc.d-state -------------------------------------------------------------------------------------------

const D_STATE: RuleMeta = {
  id: 'proc.d-state',
  title: 'Process stuck in uninterruptible sleep (D) on NFS',
  severity: 'high',
  role: 'symptom',
  description:
    'A process is in state `D` in at least two samples taken at least 5 s apart (ps or /proc/PID/stat), and its stack or wchan has an NFS/RPC frame (`nfs_`, `nfs4_`, `nlmclnt_`, `rpc_wait_bit_killable`, `__rpc_execute`). ' +
    'Guards: a single sample is never enough (short I/O waits are normal); kernel threads (`kworker`, `nfsd`, `lockd`) are left out; a D state without NFS frames is reported at medium severity as a different subsystem (FUSE, block I/O).',
};

function dState(ctx: Ctx): Finding[] {
  const out: Finding[] = [];
  for (const v of processViews(ctx).values()) {
    const d = v.samples.filter((s) => procState(s.e) === 'D');
    if (d.length < 2 || isKernelThread(v)) continue;
    const first = d[0]!;
    const last = d[d.length - 1]!;
    const span = secondsBetween(first.e.ts, last.e.ts);
    const distinct = new Set(d.map((s) => String(s.e.artifact ?? s.e.ref ?? s.i))).size;
    const longest = Math.max(...d.map((s) => elapsedSeconds(s.e) ?? 0));
    let confidence: number;
    if (span !== undefined && span >= 5) confidence = 0.85;
    else if (span === undefined && distinct >= 2 && longest >= 5) confidence = 0.6;
    else continue;
    const fns = allFrames(v);
    const wchans = d.map((s) => str(s.e, 'wchan')).filter((w): w is string => w !== undefined && w !== '-');
    const nfs = fns.some(isNfsFrame) || wchans.some(isNfsFrame);
    const evidence: EvidenceRef[] = [
      ...d.map((s) => ctx.ev(s, `${name(v)} state ${str(s.e, 'stat', 'state') ?? 'D'}${str(s.e, 'wchan') ? ` wchan ${str(s.e, 'wchan')}` : ''}`)),
      ...v.stacks.slice(-1).map((s) => ctx.ev(s, `stack: ${topFrames(frames(s.e))}`)),
    ];
    const dur = span !== undefined ? fmtSeconds(span) : `at least ${fmtSeconds(longest)} (elapsed time of the process)`;
    const sub = nfs ? 'NFS' : fns.some((f) => f.startsWith('fuse_') || f === 'request_wait_answer') ? 'FUSE' : 'another subsystem';
    out.push(make(D_STATE, {
      title: nfs ? `${name(v)} stuck in D state on NFS` : `${name(v)} stuck in D state (${sub}, not NFS)`,
      severity: nfs ? 'high' : 'medium',
      host: v.host || undefined,
      subject: String(v.pid),
      confidence: nfs ? confidence : confidence - 0.2,
      explanation:
        `${name(v)} was in uninterruptible sleep in ${d.length} samples over ${dur}. ` +
        (nfs
          ? `Its kernel stack or wait channel is in the NFS/RPC client (${topFrames(fns.length ? fns : wchans)}): it waits for the NFS server or the client's own NFS state. Most NFS waits are *killable*: SIGKILL ends them, and the hung-task detector never reports them.`
          : `Its stack (${topFrames(fns.length ? fns : wchans)}) shows no NFS frame, so this is a ${sub} wait, not an NFS one.`),
      next: nfs
        ? 'Read `/proc/PID/stack` and `/proc/PID/syscall` (non-intrusive) to see which call and which wait; check `dmesg` for `server ... not responding`; capture the NFS traffic for a bounded time.'
        : `Look at the ${sub} side: for FUSE, the daemon serving the mount is not answering.`,
      evidence,
    }));
  }
  return out;
}

// --- proc.blocked-flock --------------------------------------------------------------------------------------

const BLOCKED_FLOCK: RuleMeta = {
  id: 'proc.blocked-flock',
  title: 'Process blocked in flock()/fcntl(F_SETLKW)',
  severity: 'high',
  role: 'symptom',
  description:
    'A process (S or D) whose current call is a blocking lock: an unfinished strace `flock(N, LOCK_EX|LOCK_SH` or `fcntl(N, F_SETLKW`, a `/proc/PID/syscall` of flock/fcntl (x86_64 73/72, arm64 32/25) without LOCK_NB, or lock frames on its stack (`__do_sys_flock`, `nfs_flock`, `do_setlk`, `nlmclnt_lock`, `fuse_setlk`). ' +
    'Sub-classified by stack and state: S + `nlmclnt_block` = NLM conflict; `nfs4_retry_setlk` = NFSv4 conflict poll; D + `rpc_wait_bit_killable` = server silent; `nfs4_delay_killable` = NFS4ERR_DELAY back-off; `request_wait_answer` = FUSE daemon. ' +
    'Guards: LOCK_NB calls, waits under 1 s, and contention on local filesystems (`locks_lock_inode_wait` only) do not fire; strace output cut by our own deadline is reported as unfinished, not as blocked forever.',
};

const X86_64 = { flock: 73, fcntl: 72 };
const ARM64 = { flock: 32, fcntl: 25 };
const F_SETLKW = new Set([7, 14, 38]); // F_SETLKW, F_SETLKW64 (32-bit), F_OFD_SETLKW

function archOf(ctx: Ctx, host: string): 'x86_64' | 'arm64' | undefined {
  for (const x of ctx.of('host')) {
    if (x.host !== host) continue;
    const t = `${str(x.e, 'arch', 'machine') ?? ''} ${x.e.text}`;
    if (/x86_64|amd64/.test(t)) return 'x86_64';
    if (/aarch64|arm64/.test(t)) return 'arm64';
  }
  return undefined;
}

/** /proc/PID/syscall: "NR arg0 arg1 ..." -> which lock call, if any. */
function procSyscallLock(x: Ix, arch: 'x86_64' | 'arm64' | undefined, hasLockFrames: boolean): string | undefined {
  let nr = num(x.e, 'nr', 'syscallNr', 'number');
  let args: string[] = [];
  const a = x.e.data.args;
  if (Array.isArray(a)) args = a.map(String);
  const m = /^\s*(-?\d+)((?:\s+0x[0-9a-f]+)*)/i.exec(x.e.text);
  if (m) {
    nr ??= Number(m[1]);
    if (args.length === 0) args = m[2]!.trim().split(/\s+/);
  }
  if (nr === undefined) return undefined;
  const arg1 = args[1] !== undefined ? Number(args[1]) : undefined;
  const tables = arch === 'x86_64' ? [X86_64] : arch === 'arm64' ? [ARM64] : hasLockFrames ? [X86_64, ARM64] : [X86_64];
  for (const t of tables) {
    if (nr === t.flock) {
      if (arg1 !== undefined && (arg1 & 4) !== 0) return undefined; // LOCK_NB never blocks
      const op = arg1 === undefined ? '?' : (arg1 & 2) !== 0 ? 'LOCK_EX' : (arg1 & 1) !== 0 ? 'LOCK_SH' : (arg1 & 8) !== 0 ? 'LOCK_UN' : String(arg1);
      if (op === 'LOCK_UN') return undefined;
      return `flock(${args[0] !== undefined ? Number(args[0]) : '?'}, ${op})`;
    }
    if (nr === t.fcntl && arg1 !== undefined && F_SETLKW.has(arg1)) return `fcntl(${Number(args[0])}, F_SETLKW)`;
  }
  return undefined;
}

function straceLock(x: Ix): { call: string; cut: boolean } | undefined {
  const sc = str(x.e, 'syscall');
  const args = str(x.e, 'args') ?? '';
  const unfinished = x.e.data.unfinished === true || (str(x.e, 'ret') === undefined && x.e.data.resumed !== true);
  if (!unfinished) return undefined;
  if (sc === 'flock' && /LOCK_(EX|SH)/.test(args) && !/LOCK_NB/.test(args)) return { call: `flock(${args}`, cut: true };
  if ((sc === 'fcntl' || sc === 'fcntl64') && /F_(OFD_)?SETLKW/.test(args)) return { call: `fcntl(${args}`, cut: true };
  return undefined;
}

const CLASS_TEXT: Readonly<Record<LockWaitClass, { title: string; why: string; next: string }>> = {
  'nlm-conflict': {
    title: 'waits for an NLM lock held elsewhere',
    why: 'It sleeps in `nlmclnt_block`: the server answered NLM4_BLOCKED and the client waits for a GRANTED callback (re-sending LOCK every 30 s). Another owner holds a conflicting lock, or the server cannot deliver the callback.',
    next: 'Find the holder: the server\'s `/proc/locks` (locks held for NLM clients show the lockd thread as pid) and an NLM capture (is GRANTED ever sent?).',
  },
  'nfs4-conflict-poll': {
    title: 'polls for an NFSv4 lock held by another owner',
    why: 'It is in `nfs4_retry_setlk`: the server answered NFS4ERR_DENIED and the client retries at 1, 2, 4 ... 30 s. Another owner holds a conflicting lock.',
    next: 'Capture LOCK/LOCKT replies: the DENIED reply names the conflicting owner.',
  },
  'server-silent': {
    title: 'sent a lock request the server never answered',
    why: 'It is in D in `rpc_wait_bit_killable`: the lock RPC (NLM LOCK or NFSv4 LOCK) was sent and no reply came back. For NLM this usually means the server\'s single lockd thread is stuck (for example in a statd upcall).',
    next: 'Check dmesg for `lockd: server ... not responding`, `rpcinfo -p SERVER` for status (100024), and capture NLM traffic for a bounded time.',
  },
  'nfs4-delay': {
    title: 'backs off after NFS4ERR_DELAY',
    why: 'It sleeps in `nfs4_delay_killable`: the server answered NFS4ERR_DELAY and the Linux client retries after 100 ms, doubling to at most 15 s. A server recalling a delegation from another client answers this way.',
    next: 'Capture NFSv4 traffic: look for CB_RECALL to another client and its DELEGRETURN.',
  },
  'nfs4-recovery': {
    title: 'waits for NFSv4 state recovery',
    why: 'It waits in `nfs4_wait_clnt_recover`: the client is recovering its NFSv4 state (lease expired, bad session, stale client id), which blocks every stateful operation.',
    next: 'Capture NFSv4 traffic for EXPIRED/BADSESSION/STALE_CLIENTID replies and a new EXCHANGE_ID.',
  },
  'fuse-daemon': {
    title: 'waits for the FUSE daemon to answer a lock request',
    why: 'It waits in `request_wait_answer` under `fuse_setlk`: the lock request went to the user-space FUSE daemon, which has not answered. Nothing on the network is involved.',
    next: 'Look at the daemon serving that FUSE mount (is it alive, stuck, or deliberately holding the request?).',
  },
  'local-contention': { title: 'waits for a local lock', why: '', next: '' },
  unknown: {
    title: 'is blocked in a lock call',
    why: 'Its current call is a blocking lock, but the stack does not say which wait.',
    next: 'Read `/proc/PID/stack` as root to classify the wait.',
  },
};

function blockedFlock(ctx: Ctx): Finding[] {
  const out: Finding[] = [];
  for (const v of processViews(ctx).values()) {
    if (isKernelThread(v)) continue;
    const fns = allFrames(v);
    const lockFrames = fns.some((f) => LOCK_SYSCALL_FRAMES.has(f) || NFS_LOCK_FRAMES.has(f) || f === 'fuse_setlk');
    const arch = archOf(ctx, v.host);
    const sysLock = v.procSyscall.map((x) => ({ x, call: procSyscallLock(x, arch, lockFrames) })).filter((r) => r.call !== undefined);
    const stLock = v.syscalls.map((x) => ({ x, r: straceLock(x) })).filter((r) => r.r !== undefined);
    const attachedOnly = v.syscalls.filter((x) => x.e.data.attachedOnly === true || str(x.e, 'what') === 'attached');
    if (!lockFrames && sysLock.length === 0 && stLock.length === 0) continue;
    const last = latestSample(v);
    const state = last ? procState(last.e) : undefined;
    if (state !== undefined && state !== 'S' && state !== 'D') continue;
    const cls = classifyLockWait(fns, state);
    if (cls === 'local-contention') continue; // local filesystem contention is not an incident by itself
    // Duration: ps elapsed, span of samples, or the strace that waited for its deadline.
    const elapsed = Math.max(0, ...v.samples.map((s) => elapsedSeconds(s.e) ?? 0));
    const times = [...v.samples, ...v.stacks, ...v.procSyscall].map((s) => s.e.ts).filter((t): t is bigint => t !== undefined).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const span = times.length >= 2 ? secondsBetween(times[0], times[times.length - 1]) ?? 0 : 0;
    const waited = Math.max(elapsed, span);
    const sustained = waited >= 1 || stLock.length > 0 || attachedOnly.length > 0 || v.stacks.length >= 2;
    if (!sustained && waited > 0) continue; // a wait under 1 s is normal
    let confidence = 0.55;
    if (lockFrames) confidence += 0.15;
    if (sysLock.length > 0 || stLock.length > 0) confidence += 0.15;
    if (waited >= 1 || v.stacks.length >= 2) confidence += 0.1;
    const t = CLASS_TEXT[cls];
    const evidence: EvidenceRef[] = [];
    if (last) evidence.push(ctx.ev(last, `${name(v)} state ${str(last.e, 'stat', 'state') ?? '?'} wchan ${str(last.e, 'wchan') ?? '?'}${elapsed ? `, running for ${fmtSeconds(elapsed)}` : ''}`));
    for (const s of v.stacks.slice(-1)) evidence.push(ctx.ev(s, `stack: ${topFrames(frames(s.e), 5)}`));
    for (const s of sysLock.slice(-1)) evidence.push(ctx.ev(s.x, `/proc/${v.pid}/syscall: ${s.call}`));
    for (const s of stLock.slice(-1)) evidence.push(ctx.ev(s.x, `strace: ${s.r!.call} <unfinished> (no result before strace ended; our deadline may have cut it)`));
    for (const s of attachedOnly.slice(-1)) evidence.push(ctx.ev(s, 'strace attached and saw nothing return before its deadline: the task is inside the kernel (unfinished, not proven to block forever)'));
    const call = sysLock[0]?.call ?? (stLock[0] ? stLock[0].r!.call.replace(/,.*$/, ', ...)') : 'flock/fcntl lock');
    out.push(make(BLOCKED_FLOCK, {
      title: `${name(v)} ${t.title}`,
      severity: 'high',
      host: v.host || undefined,
      subject: String(v.pid),
      confidence,
      explanation:
        `${name(v)} is inside ${call}${state ? ` in state ${state}` : ''}${waited >= 1 ? ` and has been for at least ${fmtSeconds(waited)}` : ''}. ${t.why}` +
        (fns.some((f) => f === 'nfs_flock')
          ? ' On NFS, flock() is emulated with a whole-file POSIX lock sent to the server (since Linux 2.6.12), so it conflicts with fcntl locks of other clients.'
          : ''),
      next: t.next,
      evidence,
    }));
  }
  return out;
}

// --- nfs41.mount-race -----------------------------------------------------------------------------------------

const MOUNT_RACE: RuleMeta = {
  id: 'nfs41.mount-race',
  title: 'Parallel NFSv4 mounts stuck behind client-ID set-up',
  severity: 'critical',
  role: 'cause',
  description:
    'Two or more `mount`/`mount.nfs`/`mount.nfs4` processes alive for more than 30 s whose stacks (or hung-task reports) contain `nfs_wait_client_init_complete`, `nfs4_discover_server_trunking`, `nfs41_walk_client_list`, `nfs40_walk_client_list` or `nfs_match_client`: client-ID set-up is serialised per host and later mounts wait, with no timer, for the first. Stronger when a capture shows no traffic from those mounts. ' +
    'Guards: one mount to a dead server (SYN retransmits, `server not responding`) is `nfs.server-not-responding`; mounts in flight for a short time (autofs) and mounts waiting on DNS or statd do not fire.',
};

function mountRace(ctx: Ctx): Finding[] {
  const byHost = groupBy([...processViews(ctx).values()], (v) => v.host);
  const out: Finding[] = [];
  for (const [host, views] of byHost) {
    const stuck = views.filter((v) => {
      const s = latestSample(v);
      const comm = (s && commOf(s.e)) ?? (v.hung[0] ? String((v.hung[0].e.data.hungTask as { comm?: string }).comm ?? '') : '');
      const args = (s && argsOf(s.e)) ?? '';
      const isMount = MOUNT_COMMS.test(comm) || /^(\S*\/)?mount(\.nfs4?)?\s/.test(args);
      if (!isMount) return false;
      const fns = allFrames(v);
      if (!fns.some((f) => MOUNT_RACE_FRAMES.has(f))) return false;
      const age = Math.max(elapsedSeconds(s?.e ?? ({ data: {} } as never)) ?? 0, ...v.hung.map((h) => Number((h.e.data.hungTask as { seconds?: number }).seconds ?? 0)));
      return age > 30 || v.hung.length > 0;
    });
    if (stuck.length < 2) continue;
    const targets = new Set<string>();
    for (const v of stuck) {
      const args = argsOf(latestSample(v)?.e ?? ({ data: {} } as never)) ?? '';
      const m = /\s([A-Za-z0-9_.:[\]-]+):\/\S*/.exec(args);
      if (m) targets.add(m[1]!.replace(/^\[|\]$/g, ''));
    }
    const rpc = ctx.rpc();
    const silent = rpc.length > 0 && [...targets].length > 0 && ![...targets].some((t) => rpc.some((r) => (str(r.e, 'server') ?? '').startsWith(t)));
    const v41 = ctx.of('mount').some((m) => /vers=4\.1|nfsvers=4\.1|minorversion=1/.test(`${m.e.text} ${JSON.stringify(m.e.data)}`)) || stuck.some((v) => /vers=4\.1/.test(argsOf(latestSample(v)?.e ?? ({ data: {} } as never)) ?? ''));
    const evidence: EvidenceRef[] = [];
    for (const v of stuck) {
      const s = latestSample(v);
      if (s) evidence.push(ctx.ev(s, `${name(v)} ${str(s.e, 'stat', 'state') ?? ''} ${argsOf(s.e) ?? ''}`.trim()));
      const st = v.stacks[v.stacks.length - 1] ?? v.hung[v.hung.length - 1];
      if (st) evidence.push(ctx.ev(st, `stack of ${v.pid}: ${topFrames(frames(st.e), 5)}`));
    }
    out.push(make(MOUNT_RACE, {
      title: `${stuck.length} NFS mounts on ${host || 'this host'} wait for NFSv4 client-ID set-up`,
      severity: 'critical',
      host: host || undefined,
      subject: [...targets].join(',') || 'mounts',
      confidence: 0.75 + (silent ? 0.1 : 0) + (v41 ? 0.05 : 0),
      explanation:
        `${stuck.length} mount processes are parked in NFSv4 client-ID set-up (${topFrames(allFrames(stuck[0]!), 4)}). The kernel sets up one NFS client per server at a time (` +
        '`nfs_clid_init_mutex`, `nfs_wait_client_init_complete`); when the first set-up stalls, or fails without marking the client failed, every later mount to that server waits with no timeout at all. ' +
        (silent ? 'The capture shows no RPC traffic to the mount target from these mounts: they never reached the wire. ' : '') +
        (v41 ? 'The mounts use NFSv4.1, where a known bug (fixed upstream in 2024: "NFSv4: fix a mount deadlock in NFS v4.1 client") left mounts stuck this way. ' : ''),
      next:
        'Kill the oldest stuck mount (the wait is killable) and see whether the others proceed; serialise mounts per host (a lock around the mount helper); run a kernel with the fix. ' +
        'Mounting with `vers=4.0` avoids the 4.1 failure path but gives up sessions (no exactly-once replay cache) and still serialises client-ID set-up: a workaround, not a fix.',
      evidence,
    }));
  }
  return out;
}

// --- collector.stuck ----------------------------------------------------------------------------------------

const COLLECTOR_STUCK: RuleMeta = {
  id: 'collector.stuck',
  title: 'A collection step hit its deadline',
  severity: 'medium',
  role: 'context',
  description:
    'One of our own commands (strace, df, reading a file on NFS) ran into its deadline and was killed. That is evidence in itself: the command was stuck in the kernel like the processes it looked at. ' +
    'Guard: deadlines under 5 s are reported low, as they may be too short for a slow but healthy host.',
};

function collectorStuck(ctx: Ctx): Finding[] {
  const out: Finding[] = [];
  for (const s of ctx.steps) {
    if (s.status !== 'timed-out') continue;
    const short = s.timeoutMs !== undefined && s.timeoutMs < 5000;
    out.push(make(COLLECTOR_STUCK, {
      title: `Step ${s.stepId}${s.host ? ` on ${s.host}` : ''} hit its deadline`,
      severity: short ? 'low' : 'medium',
      host: s.host,
      subject: s.stepId,
      confidence: short ? 0.4 : 0.8,
      explanation: `\`${s.command ?? s.stepId}\` did not finish within ${s.timeoutMs !== undefined ? fmtSeconds(s.timeoutMs / 1000) : 'its deadline'} and was killed; its partial output was kept. ${/strace/.test(s.command ?? '') ? 'strace attaching to a task blocked in the kernel sees nothing until the call returns: the traced call is still in progress.' : ''}`,
      next: 'Prefer the non-intrusive reads (`/proc/PID/stack`, `/proc/PID/syscall`, wchan) for tasks stuck in the kernel.',
      evidence: [],
    }));
  }
  for (const x of ctx.of('step')) {
    if (str(x.e, 'status') !== 'timed-out') continue;
    out.push(make(COLLECTOR_STUCK, {
      title: `Step ${str(x.e, 'stepId') ?? ''} hit its deadline`.trim(),
      severity: 'medium',
      host: x.host || undefined,
      subject: str(x.e, 'stepId') ?? String(x.i),
      confidence: 0.8,
      explanation: `\`${str(x.e, 'command') ?? x.e.text}\` did not finish within its deadline and was killed.`,
      evidence: [ctx.ev(x, x.e.text)],
    }));
  }
  return out;
}

// --- collector.missing-tool -----------------------------------------------------------------------------------
const MISSING_TOOL: RuleMeta = {
  id: 'collector.missing-tool',
  title: 'A command a step needs is not installed on the host',
  severity: 'medium',
  role: 'context',
  description:
    'A step checked for the commands it needs (`requires`) before running and found some missing, so its evidence is absent, not negative. ' +
    'Reported once per host with every missing command and the Debian package that provides it.',
};

/** "missing command strace (strace), rpcdebug (nfs-kernel-server)" as the runner records it. */
export function parseMissing(reason: string | undefined): { command: string; pkg?: string }[] {
  const m = /missing command (.+)$/.exec(reason ?? '');
  if (!m) return [];
  return m[1]!.split(/,\s*/).map((part) => {
    const x = /^([A-Za-z0-9._+-]+)(?: \(([^)]*)\))?$/.exec(part.trim());
    return x ? { command: x[1]!, ...(x[2] && x[2] !== 'unknown package' ? { pkg: x[2] } : {}) } : { command: part.trim() };
  });
}

function missingTool(ctx: Ctx): Finding[] {
  const byHost = new Map<string, { command: string; pkg?: string; steps: Set<string> }[]>();
  for (const s of ctx.steps) {
    const listed = s.missing?.map((command) => ({ command })) ?? [];
    const parsed = parseMissing(s.reason);
    const all = parsed.length > 0 ? parsed : listed;
    if (all.length === 0) continue;
    const list = byHost.get(s.host ?? '') ?? [];
    for (const t of all) {
      const have = list.find((x) => x.command === t.command);
      if (have) have.steps.add(s.stepId);
      else list.push({ ...t, steps: new Set([s.stepId]) });
    }
    byHost.set(s.host ?? '', list);
  }
  return [...byHost].map(([host, tools]) =>
    make(MISSING_TOOL, {
      title: `${tools.map((t) => t.command).join(', ')} not installed${host ? ` on ${host}` : ''}`,
      severity: 'medium',
      host: host || undefined,
      subject: host || 'host',
      confidence: 0.95,
      explanation: `Steps ${[...new Set(tools.flatMap((t) => [...t.steps]))].join(', ')} could not run: ${tools.map((t) => `\`${t.command}\`${t.pkg ? ` (Debian package \`${t.pkg}\`)` : ''}`).join(', ')} ${tools.length > 1 ? 'are' : 'is'} not on the host's PATH. Their evidence is missing, which says nothing about the problem itself.`,
      next: `Install ${tools.map((t) => t.pkg ?? t.command).join(' ')} on the host (or run the step from a host that has it), then run the step again.`,
      evidence: [],
    }),
  );
}

// --- collector.interrupted -----------------------------------------------------------------------------------

const INTERRUPTED: RuleMeta = {
  id: 'collector.interrupted',
  title: 'Casefile stopped in the middle of a run',
  severity: 'high',
  role: 'context',
  description:
    'Casefile itself was killed, crashed or lost power while steps ran. At the next start, steps it left running are marked `interrupted` (their output up to then is kept) and the run ends as `interrupted`; their evidence is incomplete, not negative. ' +
    'Reported high, one finding per host, when an intrusive step had started but its restore (clearing an rpcdebug flag, unmounting test mounts) never completed: the host is still changed, and the finding gives the exact command to undo it. ' +
    'Guard: only runs ended by that recovery count, so a restore still to come in a live run is not reported.',
};

function interrupted(ctx: Ctx): Finding[] {
  const out: Finding[] = [];
  const restored = new Set(ctx.steps.filter((s) => s.isRestore && s.status === 'ok').map((s) => `${s.host ?? ''}\u0000${s.stepId}`));
  const hostsOf = (list: readonly StepRecord[]): (string | undefined)[] => [...new Set(list.map((s) => s.host))];
  const undone = ctx.steps.filter((s) => !s.isRestore && s.restore !== undefined && s.runStatus === 'interrupted' && !restored.has(`${s.host ?? ''}\u0000${s.stepId}.restore`));
  for (const host of hostsOf(undone)) {
    const steps = undone.filter((s) => s.host === host);
    const on = host ? ` on ${host}` : '';
    out.push(make(INTERRUPTED, {
      title: `Restore${steps.length > 1 ? 's' : ''} never ran${on}: the host is still changed by ${steps.map((s) => s.stepId).join(', ')}`,
      severity: 'high',
      host,
      subject: `restore:${host ?? ''}`,
      confidence: 0.9,
      explanation:
        `Casefile stopped before undoing ${steps.length > 1 ? 'these intrusive steps' : 'this intrusive step'}${on}: ${steps.map((s) => `${s.stepId} (${s.status})`).join(', ')}. ` +
        'Whatever the step turned on (a debug flag, a trace, test mounts) is most likely still in place. Casefile does not run the restore by itself after a restart.',
      next: `Run on ${host ?? 'the host'}: ${steps.map((s) => `\`${s.restore}\``).join(', then ')}.`,
      evidence: [],
    }));
  }
  const cut = ctx.steps.filter((s) => s.status === 'interrupted');
  for (const host of hostsOf(cut)) {
    const steps = cut.filter((s) => s.host === host);
    const on = host ? ` on ${host}` : '';
    out.push(make(INTERRUPTED, {
      title: `${steps.length > 1 ? `${steps.length} steps` : `Step ${steps[0]!.stepId}`}${on} cut short: Casefile stopped while ${steps.length > 1 ? 'they' : 'it'} ran`,
      severity: 'medium',
      host,
      subject: `interrupted:${host ?? ''}`,
      confidence: 0.9,
      explanation:
        `${steps.map((s) => `\`${s.command ?? s.stepId}\``).join(', ')} did not finish because Casefile itself stopped. The output received until then is kept and parsed; ` +
        'a missing event in it means the step did not get that far, not that the host is healthy.',
      next: 'Run the playbook again (or the steps alone) for complete evidence.',
      evidence: [],
    }));
  }
  return out;
}

export const PROCESS_RULES: readonly Rule[] = [
  { meta: D_STATE, run: dState },
  { meta: BLOCKED_FLOCK, run: blockedFlock },
  { meta: MOUNT_RACE, run: mountRace },
  { meta: COLLECTOR_STUCK, run: collectorStuck },
  { meta: MISSING_TOOL, run: missingTool },
  { meta: INTERRUPTED, run: interrupted },
];
