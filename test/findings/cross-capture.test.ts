import { describe, expect, it } from 'vitest';
import { runRules, type Finding, type InputEvent } from '../../shared/findings';
import { Ctx } from '../../shared/findings/context';
import { addressBook } from '../../shared/findings/hosts';
import { parseIso } from '../../shared/model/time';
import { capture, text } from './helpers';

/**
 * A case holds evidence from several hosts: the playbooks capture on every host at once and run `rpcinfo -p`
 * on each. The same RPC then appears in the client's and the server's capture, and the same outage is seen
 * from the wire (an address) and from the host itself (a name). Findings must count each call once and say
 * one thing per machine.
 */

const statd = (fs: readonly Finding[]) => fs.filter((f) => f.rule === 'nlm.statd-unavailable');
const summaries = (f: Finding | undefined) => (f?.evidence ?? []).map((e) => e.summary);

// statd-down-rpcinfo.txt lines 2-18: the rpcbind table of the filer (10.231.0.13, lab host c) with statd
// stopped, exactly as `rpcinfo -p` prints it there (the playbooks' `rpcinfo-local` step): column header, rows.
const FILER_RPCINFO = { lines: [2, 18] as const };

describe('nlm.statd-unavailable: one finding per machine', () => {
  it('the filer\'s own rpcinfo and the NOLOCKS reply captured on both ends are one finding about lab-c (10.231.0.13)', () => {
    const events = [
      ...capture('lab/statd-down.pcap', { host: 'lab-a' }),
      ...capture('lab/statd-down.pcap', { host: 'lab-c', shiftNs: 2_000_000n }),
      ...text('rpcinfo', 'lab/statd-down-rpcinfo.txt', { host: 'lab-c', ...FILER_RPCINFO }),
    ];
    const fs = runRules({ events });
    const s = statd(fs);
    expect(s.map((f) => f.subject)).toEqual(['lab-c']);
    expect(fs[0]).toBe(s[0]);
    expect(s[0]!.title).toBe('rpc.statd unavailable on lab-c (10.231.0.13): NFSv3 locks cannot be granted');
    expect(s[0]!.host).toBe('lab-c');
    const ev = summaries(s[0]);
    // The LOCK answered NOLOCKS is in both captures and counted once; the rpcbind lookup for status that
    // came back empty, and lab-c's listing without 100024, are further evidence for the same machine.
    expect(ev.filter((e) => /NLM4_DENIED_NOLOCKS/.test(e))).toEqual([expect.stringMatching(/LOCK 10\.231\.0\.11:569 -> 10\.231\.0\.13:32803 = NLM4_DENIED_NOLOCKS xid 2022361018 \(captured on lab-a and lab-c\)/)]);
    expect(ev.filter((e) => /rpcinfo lab-c: nlockmgr \(100021\) registered, status \(100024\) missing/.test(e)).length).toBe(1);
    expect(ev.some((e) => /GETADDR .* -> 10\.231\.0\.13:111 = SUCCESS.*has no status \(100024\) registered/.test(e))).toBe(true);
    expect(s[0]!.explanation).toMatch(/3 pieces of evidence \(NLM reply, rpcbind, rpcinfo\)/);
  });

  it('the address is tied to lab-c by lab-c\'s own capture and registrations, and lab-a by its NLM caller_name', () => {
    const events = [
      ...capture('lab/statd-down.pcap', { host: 'lab-a' }),
      ...capture('lab/statd-down.pcap', { host: 'lab-c' }),
      ...text('rpcinfo', 'lab/statd-down-rpcinfo.txt', { host: 'lab-c', ...FILER_RPCINFO }),
    ];
    const book = addressBook(new Ctx({ events }));
    expect(book.hostOf('10.231.0.13:32803')).toBe('lab-c');
    expect(book.hostOf('10.231.0.11')).toBe('lab-a');
    expect(book.addressesOf('lab-c')).toEqual(['10.231.0.13']);
    expect(book.label('10.231.0.12')).toBe('10.231.0.12');
  });

  it('without a capture taken on lab-c nothing ties 10.231.0.13 to lab-c: two findings, not a guessed merge', () => {
    const events = [...capture('lab/statd-down.pcap', { host: 'lab-a' }), ...text('rpcinfo', 'lab/statd-down-rpcinfo.txt', { host: 'lab-c', ...FILER_RPCINFO })];
    expect(statd(runRules({ events })).map((f) => f.subject).sort()).toEqual(['10.231.0.13', 'lab-c']);
  });

  it('two filers without statd stay two findings, even with lockd on the same pinned port', () => {
    const events = [
      ...capture('lab/statd-down.pcap', { host: 'lab-a' }),
      ...capture('lab/statd-down.pcap', { host: 'lab-c' }),
      ...text('rpcinfo', 'lab/statd-down-rpcinfo.txt', { host: 'lab-c', ...FILER_RPCINFO }),
      // a second filer whose rpcbind table is the same (nlockmgr pinned to 32803, status missing)
      ...text('rpcinfo', 'lab/statd-down-rpcinfo.txt', { host: 'filer-2', ...FILER_RPCINFO }),
    ];
    const s = statd(runRules({ events }));
    expect(s.map((f) => f.subject).sort()).toEqual(['filer-2', 'lab-c']);
    expect(summaries(s.find((f) => f.subject === 'filer-2'))).toEqual(['rpcinfo filer-2: nlockmgr (100021) registered, status (100024) missing']);
    expect(summaries(s.find((f) => f.subject === 'lab-c')).some((e) => /NLM4_DENIED_NOLOCKS/.test(e))).toBe(true);
  });

  it('a listing of a remote server (`# rpcinfo -p 10.231.0.13` before the table) is not about the host that ran it', () => {
    const events = [...capture('lab/statd-down.pcap', { host: 'lab-a' }), ...text('rpcinfo', 'lab/statd-down-rpcinfo.txt', { host: 'lab-a' })];
    const s = statd(runRules({ events }));
    expect(s.some((f) => f.subject === 'lab-a' || /on lab-a/.test(f.title))).toBe(false);
    // The header names the queried server, so the listing is attributed to it.
    expect(s.flatMap(summaries).some((e) => /rpcinfo 10\.231\.0\.13.*: nlockmgr/.test(e)), JSON.stringify(s.flatMap(summaries))).toBe(true);
  });
});

describe('the same RPC in captures from both ends counts once in every rule', () => {
  const both = (rel: string) => [...capture(rel, { host: 'lab-a' }), ...capture(rel, { host: 'lab-c', shiftNs: 1_500_000n })];

  it('keeps retransmissions within one capture, drops the other end\'s copy', () => {
    const one = capture('lab/nlm-conflict.pcap', { host: 'lab-a' });
    const ctx = new Ctx({ events: [...one, ...capture('lab/nlm-conflict.pcap', { host: 'lab-c' })] });
    expect(ctx.rpc().length).toBe(one.filter((e) => e.kind === 'rpc').length);
    const retrans = { ...one.find((e) => e.kind === 'rpc')! };
    const ctx2 = new Ctx({ events: [retrans, { ...retrans, ts: retrans.ts! + 1_000_000_000n }] });
    expect(ctx2.rpc().length).toBe(2);
  });

  it('nfs4.lock-conflict: 6 × DENIED, not 12', () => {
    const fs = runRules({ events: both('lab/v4-lock-conflict.pcap') });
    expect(fs.map((f) => f.rule)).toEqual(['nfs4.lock-conflict']);
    expect(fs[0]!.title).toMatch(/6 × DENIED/);
    expect(new Set(fs[0]!.evidence.map((e) => e.summary)).size).toBe(fs[0]!.evidence.length);
  });

  it('nlm.blocked-no-grant: one finding, the BLOCKED reply once', () => {
    const fs = runRules({ events: both('lab/nlm-conflict.pcap') });
    expect(fs.map((f) => f.rule)).toEqual(['nlm.blocked-no-grant']);
    expect(summaries(fs[0]).filter((e) => /NLM4_BLOCKED/.test(e)).length).toBe(1);
  });

  it('nfs4.delegation-recall-delay: one finding for the recall', () => {
    const fs = runRules({ events: [...capture('001-delegation-recall/linux-nfs-ml__delegation_claim.pcap', { host: 'node-a' }), ...capture('001-delegation-recall/linux-nfs-ml__delegation_claim.pcap', { host: 'filer', shiftNs: 800_000n })] });
    expect(fs.filter((f) => f.rule === 'nfs4.delegation-recall-delay').length).toBe(1);
  });

  it('nlm.grace-period: one reclaim and three denials, captured on the client and on the filer', () => {
    const t0 = parseIso('2026-11-22T10:00:00Z')!;
    const s = (sec: number) => t0 + BigInt(Math.round(sec * 1e9));
    const lock = (xid: number, client: string, at: number, status: string, reclaim: boolean, callerName: string): InputEvent => ({
      kind: 'rpc',
      ts: s(at),
      clock: 'capture',
      text: `NLMv4 LOCK -> ${status}`,
      data: { xid, program: 'nlm', programNumber: 100021, version: 4, procedure: 'LOCK', procedureNumber: 2, status, client, server: '10.231.0.13:32803', replyTs: String(s(at + 0.001)), transport: 'tcp', detail: { block: false, exclusive: true, caller_name: callerName, reclaim, fh: 'aa' } },
    });
    // lab-b asks during grace (denied every 5 s, then granted); lab-a reclaims the lock it held.
    const wire = [
      lock(101, '10.231.0.11:700', 0.5, 'NLM4_GRANTED', true, 'lab-a'),
      lock(201, '10.231.0.12:701', 1, 'NLM4_DENIED_GRACE_PERIOD', false, 'lab-b'),
      lock(202, '10.231.0.12:701', 6, 'NLM4_DENIED_GRACE_PERIOD', false, 'lab-b'),
      lock(203, '10.231.0.12:701', 11, 'NLM4_DENIED_GRACE_PERIOD', false, 'lab-b'),
      lock(204, '10.231.0.12:701', 16, 'NLM4_GRANTED', false, 'lab-b'),
    ];
    // The filer's capture holds every call; lab-b's only its own, stamped by lab-b's clock (3 ms ahead).
    const on = (host: string, skew: bigint, only?: string): InputEvent[] =>
      wire.filter((e) => only === undefined || String(e.data.client).startsWith(only)).map((e) => ({ ...e, ts: e.ts! + skew, data: { ...e.data, replyTs: String(BigInt(e.data.replyTs as string) + skew) }, host, artifact: `${host}-capture`, artifactKind: 'pcap' }));
    const single = runRules({ events: on('lab-c', 0n) }).filter((f) => f.rule === 'nlm.grace-period');
    const fs = runRules({ events: [...on('lab-b', 3_000_000n, '10.231.0.12:'), ...on('lab-c', 0n)] }).filter((f) => f.rule === 'nlm.grace-period');
    expect(fs.length).toBe(1);
    expect(fs[0]!.explanation).toMatch(/refused 3 times/);
    expect(fs[0]!.explanation).toMatch(/1 reclaim was granted meanwhile/);
    expect(fs[0]!.evidence.length).toBe(single[0]!.evidence.length);
    expect(single[0]!.title).toBe('lab-c (10.231.0.13) refused new locks from 10.231.0.12 for 15.0 s (grace period)');
    // With lab-b's own capture in the case, its caller_name ties 10.231.0.12 to it.
    expect(fs[0]!.title).toBe('lab-c (10.231.0.13) refused new locks from lab-b (10.231.0.12) for 15.0 s (grace period)');
    expect(fs[0]!.subject).toBe('lab-b->lab-c');
  });
});

describe('the same kernel log collected twice on one host counts once', () => {
  it('two dmesg artifacts of one host give the hung-task and not-responding findings of one', () => {
    const once = runRules({ events: text('dmesg', 'lab/linux-nfs-ml__loopback_nfs_hung_task.dmesg', { host: 'box' }) });
    const twice = runRules({
      events: [
        ...text('dmesg', 'lab/linux-nfs-ml__loopback_nfs_hung_task.dmesg', { host: 'box' }),
        ...text('dmesg', 'lab/linux-nfs-ml__loopback_nfs_hung_task.dmesg', { host: 'box' }).map((e) => ({ ...e, artifact: 'second-dmesg' })),
      ],
    });
    expect(once.length).toBeGreaterThan(0);
    expect(twice.map((f) => [f.rule, f.title, f.evidence.length])).toEqual(once.map((f) => [f.rule, f.title, f.evidence.length]));
    // Another host with the same log is another machine: its findings are its own.
    const two = runRules({ events: [...text('dmesg', 'lab/linux-nfs-ml__loopback_nfs_hung_task.dmesg', { host: 'box' }), ...text('dmesg', 'lab/linux-nfs-ml__loopback_nfs_hung_task.dmesg', { host: 'box2' })] });
    expect(two.length).toBe(2 * once.length);
  });
});

describe('collector.missing-tool', () => {
  it('names the missing commands and their packages once per host, from the runner step records', async () => {
    const { runRules } = await import('../../shared/findings');
    const f = runRules({
      events: [],
      steps: [
        { stepId: 'strace', host: 'web-1', status: 'failed', reason: 'missing command strace (strace)' },
        { stepId: 'rpcdebug-on', host: 'web-1', status: 'failed', reason: 'missing command rpcdebug (nfs-kernel-server), strace (strace)' },
        { stepId: 'ps', host: 'web-1', status: 'ok' },
        { stepId: 'capture', host: 'filer', status: 'failed', reason: 'exit status 1' },
      ],
    }).filter((x) => x.rule === 'collector.missing-tool');
    expect(f.map((x) => [x.host, x.title])).toEqual([['web-1', 'strace, rpcdebug not installed on web-1']]);
    expect(f[0]!.next).toMatch(/Install strace nfs-kernel-server/);
    expect(f[0]!.explanation).toMatch(/strace, rpcdebug-on/);
  });
});
