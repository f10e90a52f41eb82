import { describe, expect, it } from 'vitest';
import { runRules, type Finding } from '../../shared/findings';
import { capture, text } from './helpers';

/** The real lab fixtures (made with ../shared/lab on Debian 12, kernel 6.18): what a reader of each would expect. */

const alarming = (fs: readonly Finding[]) => fs.filter((f) => f.severity === 'critical' || f.severity === 'high');

describe('lab evidence', () => {
  it('stuck FUSE flock: proc.blocked-flock is the top finding, classified as a FUSE daemon wait', () => {
    const host = 'lab-a';
    const events = [
      ...text('ps', 'lab-stuck/flock-ps-before-strace.txt', { host, at: '2026-11-21T22:55:54.400Z' }),
      ...text('proc-stack', 'lab-stuck/flock-stack-before-strace.txt', { host, at: '2026-11-21T22:55:54.450Z', pid: 15555 }),
      ...text('proc-syscall', 'lab-stuck/flock-syscall.txt', { host, at: '2026-11-21T22:55:54.460Z', pid: 15555 }),
      ...text('strace', 'lab-stuck/flock-strace.txt', { host, at: '2026-11-21T22:55:59.520Z' }),
      ...text('ps', 'lab-stuck/flock-ps-during-strace.txt', { host, at: '2026-11-21T22:55:57.000Z' }),
      ...text('proc-stack', 'lab-stuck/flock-stack-during-strace.txt', { host, at: '2026-11-21T22:55:57.050Z', pid: 15555 }),
      ...text('ps', 'lab-stuck/flock-ps-after-strace.txt', { host, at: '2026-11-21T22:56:03.000Z' }),
      ...text('proc-stack', 'lab-stuck/flock-stack-after-strace.txt', { host, at: '2026-11-21T22:56:03.050Z', pid: 15555 }),
    ];
    const fs = runRules({ events, steps: [{ stepId: 'strace', host, status: 'timed-out', command: 'timeout -s KILL 5 strace -f -tt -p 15555', timeoutMs: 5000 }] });
    const top = fs[0]!;
    expect(top.rule).toBe('proc.blocked-flock');
    expect(top.title).toMatch(/15555.*FUSE daemon/);
    expect(top.explanation).toMatch(/flock\(3, LOCK_EX\)/);
    expect(top.host).toBe(host);
    // D in two samples 6 s apart, but no NFS frame: reported as a non-NFS D state, below the lock finding.
    const d = fs.find((f) => f.rule === 'proc.d-state');
    expect(d?.severity).toBe('medium');
    expect(d?.title).toMatch(/FUSE, not NFS/);
    expect(fs.find((f) => f.rule === 'collector.stuck')?.explanation).toMatch(/strace attaching/);
    // The evidence points back at real events.
    for (const ev of top.evidence) expect(events[ev.eventIndex]).toBeDefined();
    expect(fs.some((f) => f.rule.startsWith('nlm.') || f.rule.startsWith('nfs'))).toBe(false);
  });

  it('local flock contention and a FUSE hung task are not NFS incidents', () => {
    const fs = runRules({ events: [...text('dmesg', 'lab-stuck/dmesg-hung-task.txt', { host: 'lab-a' })] });
    expect(fs.map((f) => f.rule)).toEqual(['kernel.hung-task']);
    expect(fs[0]!.severity).toBe('medium');
    expect(fs[0]!.title).toMatch(/sh:16763 blocked more than 20 s/);
  });

  it('statd stopped on the filer: nlm.statd-unavailable from the capture and from rpcinfo, critical', () => {
    const events = [...capture('lab/statd-down.pcap', { host: 'lab-a' }), ...text('rpcinfo', 'lab/statd-down-rpcinfo.txt', { host: 'lab-a' })];
    const fs = runRules({ events });
    expect(fs[0]!.rule).toBe('nlm.statd-unavailable');
    expect(fs[0]!.severity).toBe('critical');
    expect(fs[0]!.evidence.some((e) => /NLM4_DENIED_NOLOCKS/.test(e.summary))).toBe(true);
    const rpcinfo = fs.filter((f) => f.rule === 'nlm.statd-unavailable').flatMap((f) => f.evidence).filter((e) => /status \(100024\) missing/.test(e.summary));
    expect(rpcinfo.length).toBe(1);
  });

  it('NLM conflict whose GRANTED callback cannot reach the client: nlm.blocked-no-grant', () => {
    const fs = runRules({ events: capture('lab/nlm-conflict.pcap') });
    expect(fs.map((f) => f.rule)).toEqual(['nlm.blocked-no-grant']);
    expect(fs[0]!.title).toMatch(/^10\.231\.0\.12 was told to wait/);
    expect(fs[0]!.evidence.map((e) => e.summary).join('\n')).toMatch(/NLM4_BLOCKED[\s\S]*UNLOCK/);
  });

  it('NFSv4 lock conflict polled each second is a conflict, not a delegation recall or a DELAY back-off', () => {
    const fs = runRules({ events: capture('lab/v4-lock-conflict.pcap') });
    expect(fs.map((f) => f.rule)).toEqual(['nfs4.lock-conflict']);
    expect(fs[0]!.title).toMatch(/6 × DENIED/);
  });

  it('healthy traffic and a GETATTR flood raise nothing alarming', () => {
    expect(alarming(runRules({ events: capture('lab/basic-v3-v4.pcap') }))).toEqual([]);
    expect(alarming(runRules({ events: capture('lab/getattr-flood.pcap') }))).toEqual([]);
  });

  it('dmesg: a suspend/resume "not responding" burst is low; a loopback hang reports hung NFS tasks', () => {
    const sr = runRules({ events: text('dmesg', 'lab/linux-nfs-ml__nfs_not_responding_then_OK.dmesg', { host: 'laptop' }) });
    const nr = sr.filter((f) => f.rule === 'nfs.server-not-responding');
    expect(nr.length).toBe(1);
    expect(nr[0]!.severity).toBe('low');
    const hang = runRules({ events: text('dmesg', 'lab/linux-nfs-ml__loopback_nfs_hung_task.dmesg', { host: 'box' }) });
    const hung = hang.filter((f) => f.rule === 'kernel.hung-task');
    expect(hung.length).toBeGreaterThan(0);
    expect(hung.some((f) => f.severity === 'high' && /NFS/.test(f.title))).toBe(true);
  });
});
