import { toIso } from '../../model/time';
import { Ctx, fmtSeconds, ipOf, num, secondsBetween, str } from '../context';
import { RECALL_TRIGGER_OPS } from '../patterns';
import type { Finding, RuleMeta } from '../types';
import { addressBook } from '../hosts';
import { groupBy, make, type Rule } from './rule';
import { callSummary, calls, captureEnds, mainOp, type Call } from './rpcview';

// --- nfs4.delegation-recall-delay ------------------------------------------------------------------------------

const RECALL: RuleMeta = {
  id: 'nfs4.delegation-recall-delay',
  title: 'NFSv4 operation delayed while the server recalls a delegation',
  severity: 'high',
  role: 'cause',
  description:
    'Client B gets NFS4ERR_DELAY on OPEN/SETATTR/REMOVE/RENAME/LINK/LOCK at t0; within 1 s the server sends CB_COMPOUND with CB_RECALL to another client (or connection) A; A returns the delegation (DELEGRETURN) at t1; B\'s retry of the same operation succeeds at t2 ≥ t1. Reports t2 − t0 and A\'s recall latency t1 − t0, or that the recall was still open when the capture ended. ' +
    'Guards: NFS4ERR_DELAY without a CB_RECALL (busy server, SEQUENCE replay, layouts) is `nfs.delay-retry`; servers that never delegate (Amazon EFS answers OPEN_DELEGATE_NONE and makes no callbacks) can never fire this.',
};

function delegationRecall(ctx: Ctx): Finding[] {
  const cs = calls(ctx);
  const ends = captureEnds(ctx);
  const delays = cs.filter((c) => c.program === 'nfs' && c.version === 4 && c.status === 'NFS4ERR_DELAY' && c.ops.some((o) => RECALL_TRIGGER_OPS.has(o)));
  const recalls = cs.filter((c) => c.program === 'nfs_cb' && c.ops.includes('CB_RECALL'));
  const out: Finding[] = [];
  const used = new Set<Call>();
  for (const d of delays) {
    if (d.ts === undefined) continue;
    const t0 = d.ts;
    const tReply = d.replyTs ?? t0;
    const r = recalls.find((c) => c.ts !== undefined && c.ts >= t0 - 100_000_000n && c.ts <= tReply + 1_000_000_000n && !used.has(c));
    if (!r) continue;
    used.add(r);
    const holder = r.server; // the callback's callee is the client holding the delegation
    const other = holder !== d.client;
    const ret = cs.find((c) => c.program === 'nfs' && c.ops.includes('DELEGRETURN') && ipOf(c.client) === ipOf(holder) && c.ts !== undefined && c.ts >= r.ts!);
    const op = mainOp(d);
    const retry = cs.find((c) => c.program === 'nfs' && c.client === d.client && c.ts !== undefined && c.ts > t0 && mainOp(c) === op && c.status === 'NFS4_OK');
    const t1 = ret?.ts;
    const t2 = retry?.ts;
    const end = ends.get(d.artifact);
    const stall = t2 !== undefined ? secondsBetween(t0, t2)! : secondsBetween(t0, end) ?? 0;
    const complete = ret !== undefined && retry !== undefined;
    const severity = complete && stall < 1 ? 'medium' : 'high';
    out.push(make(RECALL, {
      title: complete
        ? `${op} from ${d.client} waited ${fmtSeconds(stall)} for a delegation recall from ${holder}`
        : `${op} from ${d.client} got NFS4ERR_DELAY while the server recalled a delegation from ${holder}${ret ? '' : ' (not returned before the capture ended)'}`,
      severity,
      host: d.x.host || undefined,
      subject: `${d.client}:${op}`,
      confidence: complete ? 0.9 : ret || retry ? 0.75 : 0.65,
      explanation:
        `At ${toIso(t0)} the server answered ${op} from ${d.client} with NFS4ERR_DELAY and at ${r.ts !== undefined ? toIso(r.ts) : '?'} sent CB_RECALL to ${holder}${other ? ', a different client connection' : ' (the same connection: the client conflicts with its own delegation)'}. ` +
        'A server cannot grant a conflicting open or lock while another client holds a delegation on the file: it recalls the delegation and tells the requester to retry. ' +
        (ret ? `The holder returned it (DELEGRETURN) after ${fmtSeconds(secondsBetween(r.ts, t1)!)}. ` : 'No DELEGRETURN from the holder appears in the capture: the recall was still open when it ended (the server revokes after a lease period if the holder never answers). ') +
        (retry ? `The retry succeeded ${fmtSeconds(stall)} after the first attempt. ` : '') +
        'The Linux client retries after NFS4ERR_DELAY at 100 ms, doubling up to 15 s: a stall of exactly 5 s does not come from this back-off (that is NFSv3 JUKEBOX or the NLM grace wait).',
      next:
        'If these stalls matter: stop using a file lock on a shared file for cross-node coordination (write a temp file and rename(), or a lock service with an owner token), or stop the server granting delegations for such files (knfsd: `fs.leases-enable=0`; many filers have a switch) at the cost of more GETATTR/READ traffic. ' +
        'Note: Amazon EFS grants no delegations, so on EFS this cannot be the cause.',
      evidence: [
        ctx.ev(d.x, callSummary(d)),
        ctx.ev(r.x, `${callSummary(r)}: server recalls the delegation from ${holder}`),
        ...(ret ? [ctx.ev(ret.x, `${callSummary(ret)}: delegation returned`)] : []),
        ...(retry ? [ctx.ev(retry.x, `${callSummary(retry)}: retry succeeded`)] : []),
      ],
    }));
  }
  return out;
}

// --- nfs.delay-retry --------------------------------------------------------------------------------------------

const DELAY: RuleMeta = {
  id: 'nfs.delay-retry',
  title: 'Server keeps answering "try again later" (NFS4ERR_DELAY / NFS3ERR_JUKEBOX)',
  severity: 'medium',
  role: 'symptom',
  description:
    'NFSv4 replies NFS4ERR_DELAY or NFSv3 NFS3ERR_JUKEBOX for one operation repeatedly, or mountstats `delay` events rising between two samples; the gaps are measured and compared with the Linux schedules: 0.1·2^k s capped at 15 s (v4, nfs4_update_delay) and a fixed 5 s (v3 JUKEBOX). ' +
    'Guards: an isolated DELAY reply does not fire; gaps of 1, 2, 4 s after NFS4ERR_DENIED are a lock conflict poll, not this.',
};

function classifyGaps(gaps: readonly number[], v3: boolean): string {
  if (gaps.length === 0) return '';
  const fmt = gaps.map((g) => fmtSeconds(g)).join(', ');
  const near = (a: number, b: number): boolean => Math.abs(a - b) <= Math.max(0.05, b * 0.25);
  if (gaps.every((g) => near(g, 5))) return `The retries came every ${fmt}: a fixed 5 s wait, the NFSv3 JUKEBOX retry (NFS_JUKEBOX_RETRY_TIME)${v3 ? '' : ', which NFSv4 does not use: check the protocol version'}.`;
  const v4sched = gaps.every((g, i) => near(g, Math.min(15, 0.1 * 2 ** i)));
  if (v4sched) return `The retries came after ${fmt}: the Linux NFSv4 back-off (100 ms doubling, at most 15 s).`;
  return `The retries came after ${fmt}.`;
}

function delayRetry(ctx: Ctx): Finding[] {
  const cs = calls(ctx).filter((c) => c.program === 'nfs' && c.ts !== undefined);
  const out: Finding[] = [];
  const delayed = cs.filter((c) => c.status === 'NFS4ERR_DELAY' || c.status === 'NFS3ERR_JUKEBOX');
  for (const [k, group] of groupBy(delayed, (c) => `${c.client}\u0000${c.version === 4 ? mainOp(c) : c.procedure}\u0000${String(c.detail.fh ?? '')}`)) {
    if (group.length < 2) continue;
    const [client, op] = k.split('\u0000');
    const all = cs.filter((c) => c.client === client && (c.version === 4 ? mainOp(c) : c.procedure) === op && c.ts! >= group[0]!.ts!);
    const seq: Call[] = [];
    for (const c of all) {
      seq.push(c);
      if (c.status !== 'NFS4ERR_DELAY' && c.status !== 'NFS3ERR_JUKEBOX') break;
    }
    const gaps: number[] = [];
    for (let i = 1; i < seq.length; i++) gaps.push(secondsBetween(seq[i - 1]!.replyTs ?? seq[i - 1]!.ts, seq[i]!.ts)!);
    const v3 = group[0]!.version === 3;
    const total = secondsBetween(seq[0]!.ts, seq[seq.length - 1]!.ts) ?? 0;
    out.push(make(DELAY, {
      title: `${op} from ${client}: ${group.length} × ${v3 ? 'NFS3ERR_JUKEBOX' : 'NFS4ERR_DELAY'} over ${fmtSeconds(total)}`,
      severity: total >= 1 ? 'medium' : 'low',
      host: group[0]!.x.host || undefined,
      subject: k,
      confidence: 0.8,
      explanation: `The server answered ${op} with "${v3 ? 'NFS3ERR_JUKEBOX' : 'NFS4ERR_DELAY'}" ${group.length} times. ${classifyGaps(gaps, v3)} The server asks for a retry when it cannot answer yet: a delegation recall, a file being migrated from offline storage, a replay in progress.`,
      next: 'Look for CB_RECALL in the same window (delegation conflict) and for server-side load or migration.',
      evidence: seq.slice(0, 8).map((c) => ctx.ev(c.x, callSummary(c))),
    }));
  }
  // mountstats: events counter 25 "delay" rising between two samples of one mount.
  const ms = ctx.of('mountstats');
  for (const [, group] of groupBy(ms, (x) => `${x.host}\u0000${str(x.e, 'mountpoint', 'mountPoint', 'device') ?? ''}`)) {
    if (group.length < 2) continue;
    const delayOf = (x: (typeof group)[number]): number | undefined => {
      const ev = x.e.data.events;
      if (ev && typeof ev === 'object' && !Array.isArray(ev)) {
        const v = (ev as Record<string, unknown>).delay;
        return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
      }
      if (Array.isArray(ev) && typeof ev[24] === 'number') return ev[24] as number;
      return num(x.e, 'delay');
    };
    const a = delayOf(group[0]!);
    const b = delayOf(group[group.length - 1]!);
    if (a === undefined || b === undefined || b <= a) continue;
    out.push(make(DELAY, {
      title: `mountstats: ${b - a} NFS4ERR_DELAY/JUKEBOX back-offs on ${str(group[0]!.e, 'mountpoint', 'mountPoint') ?? 'a mount'}`,
      severity: 'medium',
      host: group[0]!.host || undefined,
      subject: `mountstats:${str(group[0]!.e, 'mountpoint', 'mountPoint') ?? ''}`,
      confidence: 0.7,
      explanation: `The mount's \`delay\` event counter rose from ${a} to ${b} between the two samples: the client slept ${b - a} times because the server answered "try again later".`,
      next: 'Capture the traffic to see which operation and whether CB_RECALL accompanies it.',
      evidence: [ctx.ev(group[0]!, `delay counter ${a}`), ctx.ev(group[group.length - 1]!, `delay counter ${b}`)],
    }));
  }
  return out;
}

// --- nfs4.lock-conflict -----------------------------------------------------------------------------------------

const CONFLICT: RuleMeta = {
  id: 'nfs4.lock-conflict',
  title: 'NFSv4 lock held by another owner (DENIED, client polling)',
  severity: 'medium',
  role: 'cause',
  description:
    'LOCK answered NFS4ERR_DENIED repeatedly for one client and file, typically at the blocking-lock poll interval (1 s doubling to 30 s, nfs4_retry_setlk), until the holder unlocks. This is ordinary contention, not a delegation recall or a server delay. ' +
    'Guard: a single DENIED to a non-blocking request is informational.',
};

function lockConflict(ctx: Ctx): Finding[] {
  const cs = calls(ctx).filter((c) => c.program === 'nfs' && c.version === 4 && c.ts !== undefined);
  const denied = cs.filter((c) => c.status === 'NFS4ERR_DENIED' && (c.ops.includes('LOCK') || c.ops.includes('LOCKT')));
  const out: Finding[] = [];
  const book = addressBook(ctx);
  for (const [client, group] of groupBy(denied, (c) => book.machine(c.client))) {
    const first = group[0]!;
    const last = group[group.length - 1]!;
    const granted = cs.find((c) => book.machine(c.client) === client && c.ts! > last.ts! && c.ops.includes('LOCK') && c.status === 'NFS4_OK');
    const span = secondsBetween(first.ts, granted?.ts ?? last.ts) ?? 0;
    out.push(make(CONFLICT, {
      title: `${book.label(client)} waited ${fmtSeconds(span)} for an NFSv4 lock held by another owner (${group.length} × DENIED)`,
      severity: group.length >= 2 ? 'medium' : 'info',
      host: first.x.host || undefined,
      subject: client,
      confidence: 0.85,
      explanation: `The server refused ${group.length} lock request${group.length > 1 ? 's' : ''} from ${book.label(client)} with NFS4ERR_DENIED (another lock owner holds a conflicting range; the reply names it)${granted ? ' and granted the lock afterwards' : ''}. The client polls: the kernel retries blocking locks after 1 s, doubling to 30 s. No delegation recall or server back-off is involved.`,
      next: 'Find the holder from the DENIED reply\'s owner and the server\'s lock list; keep critical sections short, or use a lock service if processes on several nodes coordinate.',
      evidence: [...group.slice(0, 6).map((c) => ctx.ev(c.x, callSummary(c))), ...(granted ? [ctx.ev(granted.x, `${callSummary(granted)}: granted`)] : [])],
    }));
  }
  return out;
}

export const NFS4_RULES: readonly Rule[] = [
  { meta: RECALL, run: delegationRecall },
  { meta: DELAY, run: delayRetry },
  { meta: CONFLICT, run: lockConflict },
];
