import { describe, expect, it } from 'vitest';
import { runRules } from '../../shared/findings';
import { capture, text } from './helpers';

/**
 * Recorded evidence for the seeds that cannot be reproduced on these machines (see
 * test/fixtures/evidence/PROVENANCE.md: what is a real capture, what was written from the kernel's formats).
 * Each replays what the matching playbook collects and checks that the seed's real root cause is on top.
 */

describe('seed 001 — nfs4-lock-delay (delegation recall, measured, on a delegating server)', () => {
  const host = 'php-node-b';
  const events = [
    ...text('host-info', '001-delegation-recall/node-b-host-info.txt', { host }),
    ...text('ps', '001-delegation-recall/node-b-ps-1.txt', { host, at: '2025-05-22T15:51:20Z' }),
    ...text('proc-stack', '001-delegation-recall/node-b-stack.txt', { host, at: '2025-05-22T15:51:20.100Z', pid: 14230 }),
    ...text('proc-syscall', '001-delegation-recall/node-b-syscall.txt', { host, at: '2025-05-22T15:51:20.200Z', pid: 14230 }),
    ...text('ps', '001-delegation-recall/node-b-ps-2.txt', { host, at: '2025-05-22T15:51:26Z' }),
    ...capture('001-delegation-recall/linux-nfs-ml__delegation_claim.pcap'),
  ];
  const fs = runRules({ events });

  it('the recall is the top finding, with its timing and the open recall', () => {
    const top = fs[0]!;
    expect(top.rule).toBe('nfs4.delegation-recall-delay');
    expect(top.role).toBe('cause');
    expect(top.title).toMatch(/OPEN from 10\.95\.115\.51:\d+ got NFS4ERR_DELAY while the server recalled a delegation from 10\.95\.115\.51:\d+ \(not returned/);
    expect(top.explanation).toMatch(/100 ms, doubling up to 15 s/);
    expect(top.evidence.map((e) => e.summary).join('\n')).toMatch(/CB_COMPOUND CB_SEQUENCE,CB_RECALL/);
  });

  it('the client side reads as a DELAY back-off in flock on arm64, not as the seed\'s impossible fcntl stack', () => {
    const lock = fs.find((f) => f.rule === 'proc.blocked-flock');
    expect(lock?.title).toMatch(/14230.*backs off after NFS4ERR_DELAY/);
    expect(lock?.explanation).toMatch(/flock\(11, LOCK_EX\)/);
    expect(fs.find((f) => f.rule === 'proc.d-state')?.severity).toBe('high');
    expect(fs.findIndex((f) => f.rule === 'proc.blocked-flock')).toBeGreaterThan(0);
  });
});

describe('seed 002 — nfs-mount-hang (parallel NFSv4.1 mounts)', () => {
  it('mounts parked in client-ID set-up: nfs41.mount-race on top', () => {
    const host = 'ecs-host-7';
    const events = [
      ...text('host-info', '002-mount-race/host-info.txt', { host }),
      ...text('ps', '002-mount-race/ps.txt', { host, at: '2018-10-23T09:00:00Z' }),
      ...text('proc-stack', '002-mount-race/stacks.txt', { host, at: '2018-10-23T09:00:01Z' }),
    ];
    const fs = runRules({ events });
    expect(fs[0]!.rule).toBe('nfs41.mount-race');
    expect(fs[0]!.severity).toBe('critical');
    expect(fs[0]!.title).toBe('3 NFS mounts on ecs-host-7 wait for NFSv4 client-ID set-up');
    expect(fs[0]!.explanation).toMatch(/NFSv4\.1/);
    expect(fs[0]!.next).toMatch(/workaround, not a fix/);
  });

  it('one mount to a dead server (real capture: SYN retransmits only) is not a race', () => {
    const events = [
      ...capture('002-mount-race/linux-nfs-ml__mount_dead_server_nfsv4.pcap'),
      ...text('text', '002-mount-race/linux-nfs-ml__mount_dead_server_console.log'),
    ];
    expect(runRules({ events }).filter((f) => f.rule === 'nfs41.mount-race')).toEqual([]);
  });
});

describe('seed 004 — rpc-slot-exhaustion', () => {
  it('two mountstats samples and a task dump: slot starvation on top, naming the session slot table', () => {
    const host = 'web-3';
    const events = [
      ...text('mountstats', '004-slot-table/mountstats-1.txt', { host, at: '2023-11-02T10:00:00Z' }),
      ...text('mountstats', '004-slot-table/mountstats-2.txt', { host, at: '2023-11-02T10:01:30Z' }),
      ...text('dmesg', '004-slot-table/rpc-tasks-dmesg.txt', { host, bootTime: '2023-11-02T09:40:00Z' }),
      ...capture('004-slot-table/nfstrace__eth-ipv4-tcp-nfsv41.pcap'),
    ];
    const fs = runRules({ events });
    const top = fs[0]!;
    expect(top.rule).toBe('rpc.slot-table-exhaustion');
    const all = fs.filter((f) => f.rule === 'rpc.slot-table-exhaustion');
    const ms = all.find((f) => f.subject === 'mountstats:/var/www/html/wp-content');
    expect(ms?.title).toBe('/var/www/html/wp-content: RPCs wait 287 ms for a slot vs 19.1 ms on the wire');
    expect(ms?.explanation).toMatch(/backlog averaged 7\.14/);
    const tasks = all.find((f) => f.subject === 'tasks:web-3');
    expect(tasks?.title).toBe('5 RPC tasks on web-3 wait for an NFSv4.1 session slot');
    expect(tasks?.explanation).toMatch(/2 waiting for replies/);
    expect(fs.filter((f) => f.severity === 'critical')).toEqual([]);
  });

  it('a single mountstats sample proves nothing', () => {
    const fs = runRules({ events: text('mountstats', '004-slot-table/mountstats-2.txt', { host: 'web-3' }) });
    expect(fs).toEqual([]);
  });
});
