import { toIso } from '../../model/time';
import { Ctx, fmtSeconds, frames, instant, secondsBetween, type Ix } from '../context';
import { HUNG_SUPPRESSED_RE, HUNG_TASK_RE, isNfsFrame, SERVER_STATUS_RE, VFS_OUT_OF_SYNC_RE } from '../patterns';
import type { EvidenceRef, Finding, RuleMeta } from '../types';
import { groupBy, make, type Rule } from './rule';

/** The message line of a kernel event (grouped reports: the first line). */
function msg(x: Ix): string {
  const lines = x.e.data.lines;
  if (Array.isArray(lines) && typeof lines[0] === 'string') return lines[0];
  return x.e.text.split('\n')[0] ?? '';
}

// --- kernel.hung-task ------------------------------------------------------------------------------------------

const HUNG: RuleMeta = {
  id: 'kernel.hung-task',
  title: 'Kernel hung-task report',
  severity: 'high',
  role: 'symptom',
  description:
    'dmesg `INFO: task COMM:PID blocked for more than N seconds.` with its `task:` line and call trace. High when the trace has NFS/RPC frames, medium otherwise (the subsystem is named). ' +
    'Guards: its absence proves nothing for NFS (killable NFS waits are never reported); `Future hung task reports are suppressed` means later hangs went unreported; a trace without NFS frames belongs to another subsystem.',
};

function hungTask(ctx: Ctx): Finding[] {
  const reports: Array<{ x: Ix; comm: string; pid: number; seconds: number }> = [];
  let suppressed: Ix | undefined;
  for (const x of ctx.of('kernel')) {
    const ht = x.e.data.hungTask as { comm?: string; pid?: number; seconds?: number } | undefined;
    if (ht && typeof ht.pid === 'number') reports.push({ x, comm: ht.comm ?? '?', pid: ht.pid, seconds: ht.seconds ?? 0 });
    else {
      const m = HUNG_TASK_RE.exec(msg(x));
      if (m) reports.push({ x, comm: m[1]!, pid: Number(m[2]), seconds: Number(m[3]) });
    }
    if (HUNG_SUPPRESSED_RE.test(x.e.text)) suppressed = x;
  }
  const out: Finding[] = [];
  for (const [, group] of groupBy(reports, (r) => `${r.x.host}\u0000${r.pid}`)) {
    const first = group[0]!;
    const fns: string[] = [];
    for (const r of group) for (const f of frames(r.x.e)) if (!fns.includes(f)) fns.push(f);
    const nfs = fns.some(isNfsFrame);
    const sub = nfs ? 'NFS' : fns.some((f) => f.startsWith('fuse_')) ? 'FUSE' : fns.some((f) => /^(rwsem_|down_write|down_read|mutex_lock)/.test(f)) ? 'a kernel lock (rw-semaphore/mutex)' : 'another subsystem';
    const max = Math.max(...group.map((r) => r.seconds));
    const shown = fns.filter((f) => !/^(__schedule|schedule|schedule_timeout|schedule_preempt_disabled|io_schedule)$/.test(f)).slice(0, 5);
    const evidence: EvidenceRef[] = group.map((r) => ctx.ev(r.x, `${r.comm}:${r.pid} blocked for more than ${r.seconds} s`));
    if (suppressed && suppressed.host === first.x.host) evidence.push(ctx.ev(suppressed, 'later hung-task reports are suppressed (kernel.hung_task_warnings reached 0)'));
    out.push(make(HUNG, {
      title: `${first.comm}:${first.pid} blocked more than ${max} s (${sub})`,
      severity: nfs ? 'high' : 'medium',
      host: first.x.host || undefined,
      subject: String(first.pid),
      confidence: 0.95,
      explanation:
        `The kernel's hung-task detector reported ${first.comm} (pid ${first.pid}) ${group.length > 1 ? `${group.length} times, ` : ''}blocked in uninterruptible sleep for more than ${max} s. ` +
        `Its trace: ${shown.join(' < ') || '(no frames)'}. ` +
        (nfs ? 'The frames are NFS/RPC client code.' : `The frames point to ${sub}, not to NFS.`) +
        ' The detector only sees uninterruptible (non-killable) sleeps: most NFS waits are killable and never appear here, so missing reports do not clear NFS.',
      next: nfs ? 'Correlate with `server ... not responding` lines and an RPC capture from the same time.' : 'Follow the lock or request named in the trace to its owner.',
      evidence,
    }));
  }
  return out;
}

// --- nfs.server-not-responding ---------------------------------------------------------------------------------

const NOT_RESPONDING: RuleMeta = {
  id: 'nfs.server-not-responding',
  title: 'RPC server not responding',
  severity: 'high',
  role: 'cause',
  description:
    '`PROG: server S not responding, still trying|timed out` opens an outage per (program, server), `PROG: server S OK` closes it; the duration is reported, and `timed out` (soft mounts: the call failed with EIO, data-loss risk) separately. `lockd` means the lock path (NLM), not the data path. ' +
    'Guards: bursts around suspend/resume (outage closed within 2 s) are low; lines injected through /dev/kmsg carry facility `user` and are recorded, not dropped. The line is printed once per RPC task, so its count is not the number of stuck requests.',
};

interface Outage {
  readonly program: string;
  readonly server: string;
  readonly open: Ix;
  close?: Ix;
  timedOut: boolean;
  lines: Ix[];
}

function serverNotResponding(ctx: Ctx): Finding[] {
  const outages: Outage[] = [];
  const openBy = new Map<string, Outage>();
  for (const x of ctx.of('kernel')) {
    const ss = x.e.data.serverStatus as { program?: string; server?: string; state?: string } | undefined;
    let program: string | undefined;
    let server: string | undefined;
    let state: string | undefined;
    if (ss && ss.program && ss.server) {
      program = ss.program;
      server = ss.server;
      state = ss.state;
    } else {
      const m = SERVER_STATUS_RE.exec(msg(x).trim());
      if (!m) continue;
      program = m[1]!;
      server = m[2]!;
      state = m[3] === 'OK' ? 'ok' : m[3]!.endsWith('timed out') ? 'timed-out' : 'not-responding';
    }
    const k = `${x.host}\u0000${program}\u0000${server}`;
    const cur = openBy.get(k);
    if (state === 'ok') {
      if (cur) {
        cur.close = x;
        cur.lines.push(x);
        openBy.delete(k);
      }
      continue;
    }
    if (cur) {
      cur.lines.push(x);
      if (state === 'timed-out') cur.timedOut = true;
    } else {
      const o: Outage = { program, server, open: x, timedOut: state === 'timed-out', lines: [x] };
      outages.push(o);
      openBy.set(k, o);
    }
  }
  const out: Finding[] = [];
  for (const [, group] of groupBy(outages, (o) => `${o.open.host}\u0000${o.program}\u0000${o.server}`)) {
    const o0 = group[0]!;
    const durations = group.map((o) => (o.close ? secondsBetween(instant(o.open.e), instant(o.close.e)) : undefined));
    const ongoing = group.some((o) => !o.close);
    const timedOut = group.some((o) => o.timedOut);
    const known = durations.filter((d): d is number => d !== undefined);
    const longest = known.length ? Math.max(...known) : undefined;
    const brief = !ongoing && !timedOut && longest !== undefined && longest < 2;
    const lockd = o0.program === 'lockd';
    const severity = timedOut ? 'high' : brief ? 'low' : lockd ? (ongoing || (longest ?? 0) >= 10 ? 'high' : 'medium') : ongoing || (longest ?? 0) >= 60 ? 'high' : 'medium';
    const kmsgUser = group.some((o) => o.open.e.data.facility === 'user');
    const span = group.map((o, i) => `${o.open.e.ts !== undefined ? toIso(o.open.e.ts) : o.open.e.tsRaw ?? 'at an unknown time'}${o.close ? ` for ${durations[i] !== undefined ? fmtSeconds(durations[i]!) : '?'}` : ' (no OK seen: still out when the log ends)'}`);
    out.push(make(NOT_RESPONDING, {
      title: `${o0.program}: server ${o0.server} not responding${timedOut ? ', calls timed out' : ''}${ongoing ? ' (no recovery seen)' : longest !== undefined ? ` (longest ${fmtSeconds(longest)})` : ''}`,
      severity,
      host: o0.open.host || undefined,
      subject: `${o0.program}@${o0.server}`,
      confidence: brief ? 0.5 : 0.9,
      explanation:
        `The ${o0.program === 'nfs' ? 'NFS' : o0.program} client on this host reported ${group.length} outage${group.length > 1 ? 's' : ''} of server ${o0.server}: ${span.join('; ')}. ` +
        'The kernel prints this after a major RPC timeout (with defaults over TCP about 180 s: 60 s, then 120 s) and keeps retrying on hard mounts. ' +
        (lockd ? 'The program is `lockd`: the lock requests (NLM) went unanswered while ordinary NFS traffic may have worked, which points at the server\'s lock manager (often stuck in an upcall to rpc.statd), not at the network. ' : '') +
        (timedOut ? 'Some calls **timed out**: on soft/softerr mounts the application got EIO, and written data may have been lost. ' : '') +
        (brief ? 'Every outage closed within 2 s, the pattern of a suspend/resume or a short network blip rather than a server outage. ' : '') +
        (kmsgUser ? 'Note: some lines carry syslog facility `user`: they were written into /dev/kmsg by a program, not by the kernel.' : ''),
      next: lockd
        ? 'Check the server\'s lock manager: `rpcinfo -p SERVER` (100021 and 100024 registered?), rpc-statd on both sides, and an NLM capture.'
        : 'Check reachability of the server on port 2049 and its load; a bounded capture shows whether calls leave and replies come back.',
      evidence: group.flatMap((o, i) => [
        ctx.ev(o.open, `${o.program}: server ${o.server} ${o.timedOut ? 'not responding, timed out' : 'not responding, still trying'}`),
        ...(o.close ? [ctx.ev(o.close, `${o.program}: server ${o.server} OK${durations[i] !== undefined ? ` after ${fmtSeconds(durations[i]!)}` : ''}`)] : []),
      ]),
    }));
  }
  return out;
}

// --- nlm.vfs-out-of-sync ----------------------------------------------------------------------------------------

const VFS_SYNC: RuleMeta = {
  id: 'nlm.vfs-out-of-sync',
  title: 'NLM lock granted by the server but lost locally',
  severity: 'medium',
  role: 'context',
  description:
    'dmesg `nlmclnt_lock: VFS is out of sync with lock manager!` (2.6 kernels: `do_vfs_lock:`): the server granted a lock the client then failed to record (typically a fatal signal while waiting), so the server may hold a lock nobody owns. ' +
    'Guard: common after killing lock waiters; low unless blocked lock calls follow on the same host.',
};

function vfsOutOfSync(ctx: Ctx, blockedHosts: ReadonlySet<string>): Finding[] {
  const hits = ctx.of('kernel').filter((x) => VFS_OUT_OF_SYNC_RE.test(x.e.text));
  const out: Finding[] = [];
  for (const [host, group] of groupBy(hits, (x) => x.host)) {
    const blocked = blockedHosts.has(host);
    out.push(make(VFS_SYNC, {
      title: `NLM lock state out of sync on ${host || 'this host'} (${group.length}×)`,
      severity: blocked ? 'medium' : 'low',
      host: host || undefined,
      subject: 'vfs-out-of-sync',
      confidence: 0.9,
      explanation:
        `The NLM client logged ${group.length} time${group.length > 1 ? 's' : ''} that the server granted a lock it could not record locally. ` +
        'That happens when a waiter is killed as the grant arrives; the server then keeps a lock no local process owns until the client unlocks or reboots. ' +
        (blocked ? 'Lock calls are blocked on this host, so such an orphan lock may be what they wait for.' : ''),
      next: 'Compare the server\'s `/proc/locks` with the client\'s; an orphan lock is released by unmounting or by an SM_NOTIFY from the client (reboot or `sm-notify -f`).',
      evidence: group.slice(0, 5).map((x) => ctx.ev(x, msg(x))),
    }));
  }
  return out;
}

export const KERNEL_RULES: readonly Rule[] = [
  { meta: HUNG, run: hungTask },
  { meta: NOT_RESPONDING, run: serverNotResponding },
];

export const VFS_SYNC_RULE = { meta: VFS_SYNC, run: vfsOutOfSync };
