import { toIso } from '../../model/time';
import { Ctx, fmtSeconds, ipOf, secondsBetween, str, type Ix } from '../context';
import { CANNOT_MONITOR_RE, FAILED_RECLAIM_RE, MOUNT_NO_STATD_RE, NFSD_GRACE_RE, NLM_BLOCKED, NLM_GRACE, NLM_GRANTED, NLM_NOLOCKS } from '../patterns';
import type { EvidenceRef, Finding, RuleMeta } from '../types';
import { addressBook, isLoopback, rpcinfoListings } from '../hosts';
import { groupBy, make, type Rule } from './rule';
import { callSummary, calls, captureEnds, type Call } from './rpcview';

// --- nlm.statd-unavailable -------------------------------------------------------------------------------------

const STATD: RuleMeta = {
  id: 'nlm.statd-unavailable',
  title: 'rpc.statd unavailable: NFSv2/3 locking cannot work',
  severity: 'critical',
  role: 'cause',
  description:
    'Any of: dmesg `lockd: cannot monitor HOST`; mount.nfs `rpc.statd is not running but is required for remote locking`; NLM replies NLM4_DENIED_NOLOCKS; SM_MON answered STAT_FAIL; rpcbind GETPORT/GETADDR for status (100024) answered "not registered"; `rpcinfo` listing nlockmgr (100021) without status (100024) or answering "Program not registered" for status; `rpc-statd.service` inactive or failed on a host with NFSv2/3 mounts. ' +
    'One finding per machine: a plain `rpcinfo -p` is about the host that ran it, and an address on the wire is that host when the case ties them (its own capture answering on a port its rpcinfo lists, the NLM caller name); evidence that cannot be tied stays a separate finding. ' +
    'Guards: hosts with only NFSv4 mounts or `nolock`/`local_lock=all` do not need statd; `disabled` but active (started on demand by mount.nfs) is fine; a container without systemd answers "System has not been booted with systemd": recorded as unknown, not as dead.',
};

interface StatdHit {
  readonly about: StatdSubject;
  readonly host: string;
  readonly ev: EvidenceRef;
  readonly weight: number;
  readonly kind: string;
}

function mountsNeedStatd(ctx: Ctx, host: string): boolean | undefined {
  const ms = ctx.of('mount').filter((m) => m.host === host);
  if (ms.length === 0) return undefined;
  return ms.some((m) => {
    const fstype = str(m.e, 'fstype', 'type') ?? '';
    const vers = str(m.e, 'vers') ?? '';
    const v3 = fstype === 'nfs' ? !vers.startsWith('4') : /^[23]/.test(vers);
    return v3 && m.e.data.nolock !== true && str(m.e, 'localLock') !== 'all';
  });
}

/**
 * Who a piece of statd evidence is about. `host`: a case host (its own dmesg, systemctl, `rpcinfo -p`);
 * `addr`: an address seen on the wire, resolved to a case host through the address book when the case's
 * evidence ties them; `unknown`: a listing whose target we cannot tell, kept apart per artifact.
 */
type StatdSubject = { readonly host: string } | { readonly addr: string } | { readonly unknown: string };

function statdUnavailable(ctx: Ctx): Finding[] {
  const book = addressBook(ctx);
  const hits: StatdHit[] = [];
  const local = (x: Ix): StatdSubject => (x.host ? { host: x.host } : { unknown: 'local' });
  /** The far end of a call, or the capturing host when that end is loopback (lockd -> statd on 127.0.0.1). */
  const peer = (c: Call, endpoint: string): StatdSubject => {
    const ip = ipOf(endpoint) ?? endpoint;
    return isLoopback(ip) ? local(c.x) : { addr: ip };
  };
  for (const x of ctx.of('kernel')) {
    const m = CANNOT_MONITOR_RE.exec(x.e.text);
    if (m) hits.push({ about: local(x), host: x.host, weight: 0.9, kind: 'kernel', ev: ctx.ev(x, `lockd: cannot monitor ${m[1]}: the local rpc.statd did not answer the SM_MON upcall`) });
  }
  for (const kind of ['log', 'kernel', 'note'] as const) {
    for (const x of ctx.of(kind)) if (MOUNT_NO_STATD_RE.test(x.e.text)) hits.push({ about: local(x), host: x.host, weight: 0.9, kind: 'mount', ev: ctx.ev(x, 'mount.nfs: rpc.statd is not running but is required for remote locking') });
  }
  for (const c of calls(ctx)) {
    if (c.program === 'nlm' && c.status !== undefined && NLM_NOLOCKS.has(c.status)) {
      hits.push({ about: peer(c, c.server), host: c.x.host, weight: 0.95, kind: 'NLM reply', ev: ctx.ev(c.x, `${callSummary(c)}: the server refused the lock because it could not monitor the client`) });
    }
    if (c.program === 'nlm' && typeof c.detail.stat === 'string' && NLM_NOLOCKS.has(c.detail.stat)) {
      // An asynchronous *_RES message: the server is the caller.
      hits.push({ about: peer(c, c.client), host: c.x.host, weight: 0.95, kind: 'NLM reply', ev: ctx.ev(c.x, `${callSummary(c)} carries ${c.detail.stat}`) });
    }
    if (c.program === 'nsm' && c.procedure === 'SM_MON' && c.status === 'STAT_FAIL') {
      hits.push({ about: peer(c, c.server), host: c.x.host, weight: 0.9, kind: 'SM_MON', ev: ctx.ev(c.x, `${callSummary(c)}: statd refused to monitor`) });
    }
    if (c.program === 'nsm' && c.status === 'PROG_UNAVAIL') {
      hits.push({ about: peer(c, c.server), host: c.x.host, weight: 0.85, kind: 'NSM call', ev: ctx.ev(c.x, `${callSummary(c)}: status program not available`) });
    }
    // rpcbind asked for status (100024) and answered "not registered": GETPORT port 0 (RFC 1833 §3.2),
    // GETADDR/GETVERSADDR empty address (RFC 1833 §2.2.1).
    if (c.program === 'portmap' && (c.procedure === 'GETPORT' || c.procedure === 'GETADDR' || c.procedure === 'GETVERSADDR') && c.detail.prog === 100024 && c.status === 'SUCCESS' && (c.detail.result === 0 || c.detail.result === '')) {
      hits.push({ about: peer(c, c.server), host: c.x.host, weight: 0.8, kind: 'rpcbind', ev: ctx.ev(c.x, `${callSummary(c)}: rpcbind on ${isLoopback(ipOf(c.server)) ? `${c.x.host || 'the capturing host'} (loopback)` : ipOf(c.server) ?? c.server} has no status (100024) registered`) });
    }
  }
  for (const x of ctx.of('service')) {
    if (typeof x.e.data.program === 'number' && typeof x.e.data.port === 'number') continue; // registration rows: below
    const text = x.e.text;
    const target = str(x.e, 'target', 'server', 'address');
    const probeFailed = x.e.data.program === 100024 && x.e.data.ready === false; // "program 100024 version 1 is not available"
    if (probeFailed || (/Program not registered/i.test(`${text} ${str(x.e, 'error') ?? ''}`) && /\bstatus\b|100024/.test(`${text} ${JSON.stringify(x.e.data)}`))) {
      hits.push({ about: target ? { addr: target } : { unknown: `rpcinfo:${x.host}:${String(x.e.artifact ?? '')}` }, host: x.host, weight: 0.8, kind: 'rpcinfo', ev: ctx.ev(x, `rpcinfo: status (100024) not registered on ${target || 'the queried host'}`) });
    }
    const unit = str(x.e, 'unit', 'name', 'service') ?? '';
    if (/rpc[.-]statd|\bstatd\b|nfs-lock/.test(unit) || /rpc-statd\.service/.test(text)) {
      const active = str(x.e, 'active', 'activeState', 'state') ?? '';
      if (/not been booted with systemd|Failed to connect to bus/.test(text) || x.e.data.available === false || active === 'unknown') continue; // unknown, not dead
      if (/^(inactive|failed)/.test(active) || /Active:\s+(inactive|failed)/.test(text)) {
        const need = mountsNeedStatd(ctx, x.host);
        if (need === false) continue;
        hits.push({ about: local(x), host: x.host, weight: need ? 0.85 : 0.7, kind: 'systemctl', ev: ctx.ev(x, `${unit || 'rpc-statd.service'} is ${active || 'inactive'}${need ? ' on a host with NFSv3 mounts' : ''}`) });
      }
    }
  }
  // rpcinfo listings: nlockmgr registered without status. A plain `rpcinfo -p` lists the artifact host's own rpcbind.
  for (const l of rpcinfoListings(ctx)) {
    if (!l.progs.has(100021) || l.progs.has(100024)) continue;
    const first = l.rows[0]!;
    const about: StatdSubject = l.target === undefined ? { unknown: `rpcinfo:${l.host}:${String(first.e.artifact ?? '')}:${first.e.line ?? ''}` } : hostsHas(ctx, l.target) ? { host: l.target } : { addr: l.target };
    const name = l.target ?? 'the queried host';
    hits.push({ about, host: l.host, weight: 0.8, kind: 'rpcinfo', ev: ctx.ev(first, `rpcinfo ${name}: nlockmgr (100021) registered, status (100024) missing`) });
  }
  // One finding per machine: an address the case's evidence ties to a host is that host.
  const keyOf = (a: StatdSubject): string => ('host' in a ? a.host : 'addr' in a ? book.hostOf(a.addr) ?? a.addr : `\u0001${a.unknown}`);
  const out: Finding[] = [];
  for (const [key, group] of groupBy(hits, (h) => keyOf(h.about))) {
    const unknown = key.startsWith('\u0001');
    const name = unknown ? (key === '\u0001local' ? 'this host' : 'the queried host') : book.label(key);
    const caseHost = !unknown && hostsHas(ctx, key) ? key : undefined;
    const kinds = [...new Set(group.map((h) => h.kind))].sort((a, b) => a.localeCompare(b));
    const confidence = Math.min(0.99, Math.max(...group.map((h) => h.weight)) + 0.04 * (kinds.length - 1));
    const nolocks = group.some((h) => h.kind === 'NLM reply');
    out.push(make(STATD, {
      title: `rpc.statd unavailable on ${name}: NFSv3 locks cannot be granted`,
      severity: 'critical',
      host: caseHost ?? (group[0]!.host || undefined),
      subject: unknown ? key.slice(1) : key,
      confidence,
      explanation:
        'NFSv2/3 locking (NLM) needs the status monitor (NSM, rpc.statd) on **both** peers: the client asks its statd to watch the server before its first lock, and the server asks its statd to watch each client on every lock. ' +
        `Here ${group.length} piece${group.length > 1 ? 's' : ''} of evidence (${kinds.join(', ')}) show${group.length > 1 ? '' : 's'} statd missing or unreachable on ${name}. ` +
        (nolocks ? 'The server answered NLM4_DENIED_NOLOCKS: it could not register the client with its own statd, so every lock fails. ' : '') +
        'Shared locks can still appear to work where the peer was registered earlier; only some hosts fail when statd was started on demand by a client mount and never on hosts that only export.',
      next:
        'Start and enable `rpc-statd` (and `rpc-statd-notify`, `rpcbind`) on every host that mounts NFSv3 with locking or exports NFSv3, and pin it in configuration management; find out why mount.nfs did not start it (container without systemd, masked unit). ' +
        'Alternatives with costs: `nolock`/`local_lock=all` keeps locks local (unsafe when several hosts write the same files); NFSv4 has locking in-band (no NLM/NSM) but its own lease and recovery rules.',
      // strongest evidence first (a NOLOCKS reply proves more than a listing)
      evidence: [...group].sort((a, b) => b.weight - a.weight).map((h) => h.ev),
    }));
  }
  return out;
}

function hostsHas(ctx: Ctx, name: string): boolean {
  return ctx.hosts().has(name);
}

// --- nlm.grace-period -----------------------------------------------------------------------------------------

const GRACE: RuleMeta = {
  id: 'nlm.grace-period',
  title: 'Lock server in its grace period',
  severity: 'high',
  role: 'cause',
  description:
    'NLM replies NLM4_DENIED_GRACE_PERIOD (or NFSv4 NFS4ERR_GRACE) to non-reclaim LOCK/TEST calls of one client, typically every 5 s (NLMCLNT_GRACE_WAIT), until GRANTED; the window length, the reclaims seen and the server\'s SM_NOTIFY or `NFSD: starting N-second grace period` are reported. ' +
    'Guards: reclaims granted during grace are expected; a single denial is informational unless an application waited; windows longer than grace + 10 s point to a server stuck in grace (high).',
};

function gracePeriod(ctx: Ctx): Finding[] {
  const cs = calls(ctx);
  const book = addressBook(ctx);
  const m = (endpoint: string): string => book.machine(endpoint);
  const denied = cs.filter((c) => c.status !== undefined && ((c.program === 'nlm' && NLM_GRACE.has(c.status) && c.detail.reclaim !== true) || (c.program === 'nfs' && c.status === 'NFS4ERR_GRACE')));
  const out: Finding[] = [];
  for (const [k, group] of groupBy(denied, (c) => `${m(c.client)}\u0000${m(c.server)}`)) {
    const [client, server] = k.split('\u0000') as [string, string];
    const first = group[0]!;
    const last = group[group.length - 1]!;
    const granted = cs.find((c) => m(c.client) === client && m(c.server) === server && c.ts !== undefined && last.ts !== undefined && c.ts > last.ts && c.status !== undefined && (NLM_GRANTED.has(c.status) || (c.program === 'nfs' && c.status === 'NFS4_OK' && c.ops.includes('LOCK'))));
    const end = granted?.ts ?? last.ts;
    const window = secondsBetween(first.ts, end) ?? 0;
    const gaps: number[] = [];
    for (let i = 1; i < group.length; i++) {
      const g = secondsBetween(group[i - 1]!.ts, group[i]!.ts);
      if (g !== undefined) gaps.push(g);
    }
    const reclaims = cs.filter((c) => m(c.server) === server && c.detail.reclaim === true && c.status !== undefined && NLM_GRANTED.has(c.status));
    const notify = cs.filter((c) => c.program === 'nsm' && c.procedure === 'SM_NOTIFY' && (m(c.client) === server || book.machine(String(c.detail.mon_name ?? '')) === server));
    // knfsd's own "starting grace period" line: from the server's dmesg when we know which host it is.
    const nfsd = ctx.of('kernel').filter((x) => NFSD_GRACE_RE.test(x.e.text) && (!ctx.hosts().has(server) || x.host === server));
    const v4 = first.program === 'nfs';
    const graceLen = v4 ? 90 : 50;
    const stuck = window > graceLen + 10;
    const severity = stuck ? 'high' : group.length >= 2 ? 'medium' : 'info';
    const evidence: EvidenceRef[] = [
      ...group.slice(0, 6).map((c) => ctx.ev(c.x, callSummary(c))),
      ...(granted ? [ctx.ev(granted.x, `${callSummary(granted)}: granted after the grace period`)] : []),
      ...reclaims.slice(0, 3).map((c) => ctx.ev(c.x, `reclaim: ${callSummary(c)}`)),
      ...notify.slice(0, 2).map((c) => ctx.ev(c.x, `SM_NOTIFY from ${c.client}: the server announced its restart`)),
      ...nfsd.slice(0, 1).map((x) => ctx.ev(x, x.e.text.split('\n')[0] ?? '')),
    ];
    const meanGap = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : undefined;
    out.push(make(GRACE, {
      title: `${book.label(server)} refused new locks from ${book.label(client)} for ${fmtSeconds(window)} (grace period${stuck ? ', longer than expected' : ''})`,
      severity,
      host: first.x.host || undefined,
      subject: `${client}->${server}`,
      confidence: group.length >= 2 ? 0.9 : 0.6,
      explanation:
        `After a restart the lock server accepts only reclaims of locks held before it went down, and answers new requests "${v4 ? 'NFS4ERR_GRACE' : 'DENIED_GRACE_PERIOD'}" until its grace period ends (${v4 ? 'the NFSv4 lease time, 90 s by default' : 'Linux lockd: 5 × nlm_timeout = 50 s, or fs.nfs.nlm_grace_period; knfsd\'s NFSv4 grace applies to NLM too'}). ` +
        `${book.label(client)} was refused ${group.length} time${group.length > 1 ? 's' : ''} from ${first.ts !== undefined ? toIso(first.ts) : '?'}${meanGap !== undefined ? `, retrying about every ${fmtSeconds(meanGap)} (the Linux NLM client waits a fixed 5 s)` : ''}${granted ? ', then was granted' : ''}. ` +
        (reclaims.length ? `${reclaims.length} reclaim${reclaims.length > 1 ? 's were' : ' was'} granted meanwhile: recovery worked for clients that were notified. ` : '') +
        (stuck ? 'The window is longer than a grace period should last: the server may be stuck in grace.' : ''),
      next: stuck
        ? 'Check the server\'s grace state (knfsd: `/proc/fs/nfsd/v4_end_grace`; HA setups: the failover scripts) and whether reclaims still arrive.'
        : 'Expected after a server restart. To shorten it, lower `fs.nfs.nlm_grace_period` / the NFSv4 lease, at the risk of clients missing their reclaim window.',
      evidence,
    }));
  }
  // Failed reclaims are evidence of lost locks after a server reboot.
  for (const x of ctx.of('kernel')) {
    const m = FAILED_RECLAIM_RE.exec(x.e.text);
    if (!m) continue;
    out.push(make(GRACE, {
      title: `Lock of pid ${m[1]} lost: reclaim after server restart failed`,
      severity: 'high',
      host: x.host || undefined,
      subject: `reclaim-${m[1]}`,
      confidence: 0.9,
      explanation: `The NLM client could not reclaim a lock of pid ${m[1]} (errno ${m[2]}, status ${m[3]}) after the server announced a restart: the process believes it holds a lock the server no longer has.`,
      next: 'Restart the application holding that lock, or have it re-acquire its locks.',
      evidence: [ctx.ev(x, x.e.text.split('\n')[0] ?? '')],
    }));
  }
  return out;
}

// --- nlm.blocked-no-grant -------------------------------------------------------------------------------------

const NO_GRANT: RuleMeta = {
  id: 'nlm.blocked-no-grant',
  title: 'NLM lock blocked and never granted',
  severity: 'high',
  role: 'cause',
  description:
    'A blocking NLM LOCK answered NLM4_BLOCKED, the conflicting holder\'s UNLOCK is seen, and no GRANTED/GRANTED_MSG callback reaches the waiting client within 5 s (the client only re-polls every 30 s); or the waiting client re-sends LOCK every ~30 s without a grant. ' +
    'Guards: legitimate long-held locks (no UNLOCK seen) are reported only when the capture covers more than 35 s after BLOCKED; GRANTED_MSG dropped by a firewall must be checked on the client side too.',
};

function blockedNoGrant(ctx: Ctx): Finding[] {
  const cs = calls(ctx);
  const ends = captureEnds(ctx);
  const out: Finding[] = [];
  const blocked = cs.filter((c) => c.program === 'nlm' && (c.procedure === 'LOCK' || c.procedure === 'LOCK_MSG') && c.detail.block === true && c.status !== undefined && NLM_BLOCKED.has(c.status));
  const seen = new Set<string>();
  for (const b of blocked) {
    const client = ipOf(b.client) ?? b.client;
    const fh = String(b.detail.fh ?? '');
    const k = `${client}\u0000${fh}`;
    if (seen.has(k) || b.ts === undefined) continue;
    seen.add(k);
    const after = cs.filter((c) => c.ts !== undefined && c.ts > b.ts! && c.program === 'nlm');
    const grant = after.find((c) => (c.procedure === 'GRANTED' || c.procedure === 'GRANTED_MSG') && (ipOf(c.server) === client || String(c.detail.caller_name ?? '') === String(b.detail.caller_name ?? '')) && (fh === '' || c.detail.fh === undefined || c.detail.fh === fh));
    if (grant) continue;
    const unlock = after.find((c) => (c.procedure === 'UNLOCK' || c.procedure === 'UNLOCK_MSG') && ipOf(c.client) !== client && (fh === '' || c.detail.fh === fh));
    const end = ends.get(b.artifact) ?? b.ts;
    const resend = after.filter((c) => (c.procedure === 'LOCK' || c.procedure === 'LOCK_MSG') && ipOf(c.client) === client && c.detail.fh === b.detail.fh);
    const afterUnlock = unlock?.ts !== undefined ? secondsBetween(unlock.ts, end) ?? 0 : 0;
    const afterBlocked = secondsBetween(b.ts, end) ?? 0;
    // The server sends GRANTED as soon as it processes the release; an UNLOCK it answered with nothing after is
    // the signature. A short tail after the UNLOCK lowers confidence (a late callback could be outside the capture).
    const unlockDone = unlock !== undefined && !unlock.noReply;
    if (!unlockDone && !(resend.length > 0 && afterBlocked > 35)) continue;
    const rst = ctx.of('packet').find((p) => /RST/.test(p.e.text) && /(^|\D)111(\D|$)/.test(p.e.text) && p.e.ts !== undefined && unlock?.ts !== undefined && p.e.ts >= unlock.ts);
    out.push(make(NO_GRANT, {
      title: `${addressBook(ctx).label(client)} was told to wait for a lock (BLOCKED) and never got GRANTED`,
      severity: 'high',
      host: b.x.host || undefined,
      subject: k,
      confidence: unlockDone ? (afterUnlock >= 5 || rst ? 0.85 : 0.65) : 0.7,
      explanation:
        `${client} asked ${ipOf(b.server)} for a blocking lock${b.detail.path ? ` on ${String(b.detail.path)}` : ''}; the server answered NLM4_BLOCKED, which means "I will call you back with GRANTED when it is free". ` +
        (unlock ? `The holder released the lock (${unlock.client} UNLOCK at ${unlock.ts !== undefined ? toIso(unlock.ts) : '?'}, answered by the server), yet no GRANTED callback to ${client} follows in the ${fmtSeconds(afterUnlock)} the capture still covers${afterUnlock < 5 ? ' (a short tail: a late callback cannot be excluded)' : ''}. ` : `No GRANTED arrived within ${fmtSeconds(afterBlocked)}. `) +
        'The callback is a separate RPC from the server to the client\'s lockd (found through the client\'s portmapper): a client without rpcbind/lockd reachable, or a firewall, makes it fail, and the server may then drop the blocked request. The waiting client only re-polls every 30 s.',
      next: 'Check that the client runs rpcbind and lockd is registered (`rpcinfo -p CLIENT` from the server), that ports 111 and the nlockmgr port are open from server to client, and the server log for failed GRANTED_MSG calls.',
      evidence: [
        ctx.ev(b.x, `${callSummary(b)}: server will call back`),
        ...(unlock ? [ctx.ev(unlock.x, `${callSummary(unlock)}: the conflicting lock was released`)] : []),
        ...resend.slice(0, 3).map((c) => ctx.ev(c.x, `${callSummary(c)}: client polls again`)),
        ...(rst ? [ctx.ev(rst, 'the server\'s connection to the client\'s portmapper (port 111) was refused')] : []),
      ],
    }));
  }
  return out;
}

// --- nsm.notify-unanswered ------------------------------------------------------------------------------------

const NOTIFY: RuleMeta = {
  id: 'nsm.notify-unanswered',
  title: 'Reboot notification (SM_NOTIFY) not answered',
  severity: 'medium',
  role: 'cause',
  description:
    'SM_NOTIFY (100024 proc 6) calls to a peer without a reply once one was due, or retransmitted for more than 60 s; or sm-notify log lines about failing hosts. The peer never learnt of the reboot, so locks can stay stale (client reboot) or be silently lost (server reboot). ' +
    'Guards: a missing reply is unknown, not lost, when the capture ended within 5 s of the call; peers gone for good are expected to linger; `sm-notify -m 0` retries forever by design.',
};

function notifyUnanswered(ctx: Ctx): Finding[] {
  const cs = calls(ctx);
  const ends = captureEnds(ctx);
  const out: Finding[] = [];
  const notifies = cs.filter((c) => c.program === 'nsm' && c.procedure === 'SM_NOTIFY');
  const book = addressBook(ctx);
  for (const [k, group] of groupBy(notifies, (c) => `${book.machine(c.client)}\u0000${book.machine(c.server)}`)) {
    const [from, to] = k.split('\u0000').map((a) => book.label(a)) as [string, string];
    const answered = group.some((c) => !c.noReply);
    if (answered) continue;
    const due = group.filter((c) => c.ts !== undefined && (secondsBetween(c.ts, ends.get(c.artifact)) ?? 0) >= 5);
    if (due.length === 0) continue;
    const span = secondsBetween(group[0]!.ts, group[group.length - 1]!.ts) ?? 0;
    out.push(make(NOTIFY, {
      title: `${from} announced a reboot to ${to}; no answer`,
      severity: 'medium',
      host: group[0]!.x.host || undefined,
      subject: k,
      confidence: span > 60 ? 0.85 : 0.6,
      explanation:
        `${from} sent ${group.length} SM_NOTIFY call${group.length > 1 ? 's' : ''} (over ${fmtSeconds(span)}) to ${to} and no reply came back. ` +
        'SM_NOTIFY tells a peer "I rebooted, drop my locks" (from a client) or "reclaim your locks" (from a server). Unanswered, the peer keeps stale locks or loses track of its own; sm-notify retries for 15 minutes by default, then gives up, and the peer stays in /var/lib/nfs/sm.bak.',
      next: `Check that statd runs and is registered on ${to} (\`rpcinfo -p ${to}\`), that it resolves ${from}'s name, and the firewall between them; \`sm-notify -f\` resends.`,
      evidence: group.slice(0, 6).map((c) => ctx.ev(c.x, callSummary(c))),
    }));
  }
  for (const x of [...ctx.of('log'), ...ctx.of('note')]) {
    if (!/sm-notify/.test(x.e.text) || !/(fail|unable|giving up|timed out|no response)/i.test(x.e.text)) continue;
    out.push(make(NOTIFY, {
      title: 'sm-notify could not reach a peer',
      severity: 'medium',
      host: x.host || undefined,
      subject: `log-${x.i}`,
      confidence: 0.7,
      explanation: 'sm-notify reported a failure to notify a peer of this host\'s reboot.',
      evidence: [ctx.ev(x, x.e.text.split('\n')[0] ?? '')],
    }));
  }
  return out;
}

export const NLM_RULES: readonly Rule[] = [
  { meta: STATD, run: statdUnavailable },
  { meta: GRACE, run: gracePeriod },
  { meta: NO_GRANT, run: blockedNoGrant },
  { meta: NOTIFY, run: notifyUnanswered },
];

export type { Call };
