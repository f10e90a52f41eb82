import { mountstatsDelta, type MountstatsData } from '../../parsers/mountstats';
import { Ctx, fmtSeconds, str, type Ix } from '../context';
import { TASK_DUMP_RE, WAITING_FOR_SLOT_RE } from '../patterns';
import type { EvidenceRef, Finding, RuleMeta } from '../types';
import { groupBy, make, type Rule } from './rule';
import { calls } from './rpcview';

const SLOTS: RuleMeta = {
  id: 'rpc.slot-table-exhaustion',
  title: 'RPC requests queue for a free slot',
  severity: 'high',
  role: 'cause',
  description:
    'From two mountstats samples of one mount: Δqueue_ms/Δops > 5 × Δrtt_ms/Δops and > 50 ms for GETATTR/LOOKUP/ACCESS (or all ops together), or Δbklog_u/Δsends ≥ 1 on the transport; or task dumps with `q:xprt_backlog` (transport slots) or `q:ForeChannel Slot table` (NFSv4.1 session slots); `RPC: waiting for request slot` debug lines support it. The negotiated session size from CREATE_SESSION and the metadata op rate (a stat() flood) are reported when present. ' +
    'Guards: a single sample proves nothing (counters are cumulative since mount); a reconnect between samples (connect_count changed) inflates queue time; `q:xprt_pending` means a slow server, not slot starvation.',
};

const META_OPS = new Set(['GETATTR', 'LOOKUP', 'ACCESS']);

function msData(x: Ix): MountstatsData | undefined {
  const d = x.e.data as unknown as MountstatsData;
  return Array.isArray(d.perOp) || d.xprt ? d : undefined;
}

function slotExhaustion(ctx: Ctx): Finding[] {
  const out: Finding[] = [];
  // mountstats deltas
  const samples = ctx.of('mountstats').filter((x) => msData(x) !== undefined);
  for (const [, group] of groupBy(samples, (x) => `${x.host}\u0000${str(x.e, 'device') ?? ''}\u0000${str(x.e, 'mountpoint') ?? ''}`)) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((a, b) => (a.e.ts !== undefined && b.e.ts !== undefined ? (a.e.ts < b.e.ts ? -1 : a.e.ts > b.e.ts ? 1 : 0) : a.i - b.i));
    const a = sorted[0]!;
    const b = sorted[sorted.length - 1]!;
    const delta = mountstatsDelta(msData(a)!, msData(b)!);
    const reconnect = (delta.xprt?.connectCountChange ?? 0n) !== 0n;
    const meta = delta.perOp.filter((o) => META_OPS.has(o.op) && o.ops > 0n);
    const pick = meta.length > 0 ? meta : delta.perOp.filter((o) => o.ops > 0n);
    const ops = pick.reduce((s, o) => s + o.ops, 0n);
    const q = pick.reduce((s, o) => s + o.queue_ms, 0n);
    const r = pick.reduce((s, o) => s + o.rtt_ms, 0n);
    const qPer = ops > 0n ? Number(q) / Number(ops) : 0;
    const rPer = ops > 0n ? Number(r) / Number(ops) : 0;
    const queueBound = ops > 0n && qPer > 50 && qPer > 5 * rPer;
    const backlog = delta.xprt && delta.xprt.sends > 0n ? Number(delta.xprt.bklog_u) / Number(delta.xprt.sends) : 0;
    const backlogBound = backlog >= 1;
    if (!queueBound && !backlogBound) continue;
    const ev = delta.events ?? {};
    const reval = (ev.inoderevalidates ?? 0n) + (ev.attrinvalidates ?? 0n) + (ev.dentryrevalidates ?? 0n);
    const secs = delta.ageSeconds;
    const mp = str(b.e, 'mountpoint') ?? '?';
    const maxSlots = (msData(b)!.xprt?.fields ?? {}).max_slots;
    out.push(make(SLOTS, {
      title: `${mp}: RPCs wait ${qPer.toFixed(0)} ms for a slot vs ${rPer.toFixed(1)} ms on the wire`,
      severity: reconnect ? 'medium' : 'high',
      host: b.host || undefined,
      subject: `mountstats:${mp}`,
      confidence: reconnect ? 0.5 : queueBound && backlogBound ? 0.9 : 0.8,
      explanation:
        `Between the two samples${secs !== undefined ? ` (${fmtSeconds(secs)} apart)` : ''}, ${ops} ${meta.length ? 'GETATTR/LOOKUP/ACCESS' : ''} calls spent on average ${qPer.toFixed(1)} ms queued before transmission and ${rPer.toFixed(1)} ms on the wire. ` +
        '`queue_ms` counts from task start to first transmit, so it includes waiting for an NFSv4.1 session slot and for a transport slot: when it dwarfs the round trip, requests are starved of slots, not slowed by the server. ' +
        (delta.xprt ? `The transport backlog averaged ${backlog.toFixed(2)} queued requests per send${maxSlots ? ` (max_slots ${maxSlots})` : ''}. ` : '') +
        (reval > 0n ? `Meanwhile ${reval} attribute/dentry revalidations were counted: a burst of stat() calls is the likely driver. ` : '') +
        (reconnect ? 'The transport reconnected between the samples, which also inflates queue time: confidence is lower.' : ''),
      next:
        'Find what drives the burst (OPcache `validate_timestamps` re-stat()ing every script every `revalidate_freq` seconds is a classic) and remove it: `opcache.validate_timestamps=0` with an OPcache reset on deploy, or code shipped in the image rather than on NFS. ' +
        'Longer attribute caching (`actimeo`/`acregmin`) cuts GETATTRs at the cost of seeing other nodes\' changes later; `max_session_slots` helps only if the server grants more slots. `lookupcache=pos` and `noatime` do not help here.',
      evidence: [ctx.ev(a, `first sample of ${mp}`), ctx.ev(b, `second sample: +${ops} ops, +${q} ms queued, +${r} ms rtt${delta.xprt ? `, backlog ${backlog.toFixed(2)}/send` : ''}`)],
    }));
  }
  // task dumps and debug lines, per host
  const dumps: Array<{ x: Ix; queue: string }> = [];
  const waits: Ix[] = [];
  for (const kind of ['kernel', 'log', 'note'] as const) {
    for (const x of ctx.of(kind)) {
      const lines = Array.isArray(x.e.data.lines) ? (x.e.data.lines as unknown[]).filter((l): l is string => typeof l === 'string') : x.e.text.split('\n');
      for (const l of lines) {
        const m = TASK_DUMP_RE.exec(l);
        if (m) dumps.push({ x, queue: m[9]! });
        else if (WAITING_FOR_SLOT_RE.test(l)) waits.push(x);
      }
    }
  }
  for (const x of ctx.all()) {
    const q = str(x.e, 'queue', 'q');
    if (q && x.e.kind !== 'kernel') dumps.push({ x, queue: q });
  }
  const starving = dumps.filter((d) => /^(xprt_backlog|ForeChannel Slot table|BackChannel Slot table)/.test(d.queue));
  for (const [host, group] of groupBy(starving, (d) => d.x.host)) {
    const session = group.filter((d) => d.queue.startsWith('ForeChannel')).length;
    const transport = group.length - session;
    const pending = dumps.filter((d) => d.x.host === host && d.queue.startsWith('xprt_pending')).length;
    const cs = calls(ctx).filter((c) => c.procedure === 'COMPOUND' && c.ops.includes('CREATE_SESSION'));
    const slots = cs.map((c) => c.detail.foreMaxRequests ?? c.detail.fore_maxrequests ?? c.detail.maxRequests ?? (c.detail.fore as Record<string, unknown> | undefined)?.maxRequests).find((v) => v !== undefined);
    const evidence: EvidenceRef[] = [...group.slice(0, 6).map((d) => ctx.ev(d.x, `task queued on ${d.queue}`)), ...waits.filter((w) => w.host === host).slice(0, 2).map((w) => ctx.ev(w, 'RPC: waiting for request slot'))];
    out.push(make(SLOTS, {
      title: `${group.length} RPC tasks on ${host || 'this host'} wait for ${session >= transport ? 'an NFSv4.1 session slot' : 'a transport slot'}`,
      severity: 'high',
      host: host || undefined,
      subject: `tasks:${host}`,
      confidence: group.length >= 4 ? 0.9 : 0.7,
      explanation:
        `The RPC task dump shows ${session} task${session === 1 ? '' : 's'} on \`ForeChannel Slot table\` (NFSv4.1 session slots, granted by the server in CREATE_SESSION${slots !== undefined ? `: here ${String(slots)}` : ''}) and ${transport} on \`xprt_backlog\` (transport slots), against ${pending} waiting for replies (\`xprt_pending\`). ` +
        'Tasks that wait for a slot have not been sent yet: the bottleneck is the number of requests allowed in flight, not the server\'s answer time.',
      next: 'Reduce the burst (see the mountstats reading and OPcache settings); check the slot count the server grants in CREATE_SESSION (and SEQUENCE target_highest_slotid).',
      evidence,
    }));
  }
  return out;
}

export const SLOT_RULES: readonly Rule[] = [{ meta: SLOTS, run: slotExhaustion }];
