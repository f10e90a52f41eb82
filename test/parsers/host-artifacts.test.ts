import { describe, expect, it } from 'vitest';
import {
  bootTimeFromHostInfo, classifyFrames, decodeTextBytes, detectTextKind, mountstatsDelta, parseText,
} from '../../shared/parsers';
import type {
  LockData, MountData, MountstatsData, ProcessData, ProcSyscallData, RpcinfoData, StackData, SystemctlData,
} from '../../shared/parsers';
import { parseIso } from '../../shared/model/time';
import { d, fixture, ofKind } from './helpers';

describe('proc-stack and classifyFrames', () => {
  it('reads the lab FUSE flock stack and classifies it', () => {
    const out = parseText('proc-stack', fixture('stuck/flock-stack-before-strace.txt'));
    expect(out.warnings).toEqual([]);
    const s = d<StackData>(out.events[0]);
    expect(s.frames).toEqual(['request_wait_answer', '__fuse_simple_request', 'fuse_setlk', '__do_sys_flock', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']);
    expect(s.classification).toEqual({ primary: 'fuse-request-wait', frame: 'request_wait_answer', all: ['fuse-request-wait', 'flock'] });
  });

  it('splits several stacks by their headers (lab "== /proc/N/stack (comm) state=X" form)', () => {
    const out = parseText('proc-stack', fixture('stuck/hangwrite-stacks.txt'));
    expect(out.events.map((e) => e.pid)).toEqual([16743, 16763]);
    expect(out.events.map((e) => d<StackData>(e).comm)).toEqual(['dd', 'sh']);
    expect(out.events.map((e) => d<StackData>(e).state)).toEqual(['S', 'D']);
    expect(d<StackData>(out.events[1]).frames[0]).toBe('fuse_file_write_iter');
  });

  it('handles "# /proc/N/stack" headers inside a transcript and reports skipped lines once', () => {
    const out = parseText('proc-stack', fixture('stuck/local-flock-contention.txt'));
    const st = ofKind(out.events, 'stack');
    expect(st.map((e) => [e.pid, d<StackData>(e).waitClass])).toEqual([[17392, 'flock'], [17394, undefined]]);
    expect(out.warnings).toHaveLength(1);
  });

  it('reads the mailing-list /proc/PID/stack dumps (nfs rpc wait, modules)', () => {
    const out = parseText('proc-stack', fixture('logs/linux-nfs-ml__hung_tasks_and_proc_pid_stack.txt'));
    const rpc = ofKind(out.events, 'stack').find((e) => e.pid === 3806883)!;
    expect(d<StackData>(rpc).waitClass).toBe('nfs-rpc-wait');
    expect(d<StackData>(rpc).modules).toContain('sunrpc');
  });

  it('orders classes most specific first', () => {
    const nlm = ['rpc_wait_bit_killable', '__rpc_execute', 'rpc_run_task', 'nlmclnt_call', 'nlmclnt_lock', 'nlmclnt_proc', 'nfs3_proc_lock', 'do_setlk', 'nfs_flock', '__do_sys_flock'];
    expect(classifyFrames(nlm)?.all).toEqual(['nlm-lock-wait', 'nfs-rpc-wait', 'flock']);
    expect(classifyFrames(['nfs4_delay_killable', 'nfs4_handle_exception', 'nfs4_proc_getattr'])?.primary).toBe('nfs4-delay');
    expect(classifyFrames(['nfs4_retry_setlk_simple', 'nfs4_retry_setlk', 'nfs4_proc_lock', 'nfs_flock'])?.primary).toBe('nfs4-lock-poll');
    expect(classifyFrames(['mutex_lock', 'nfs4_discover_server_trunking', 'nfs4_init_client'])?.primary).toBe('nfs-client-init');
    expect(classifyFrames(['nfs4_wait_clnt_recover', 'nfs4_client_recover_expired_lease'])?.primary).toBe('nfs4-state-recovery');
    expect(classifyFrames(['rwsem_down_write_slowpath', 'down_write', 'fuse_file_write_iter'])?.primary).toBe('rwsem');
    expect(classifyFrames(['folio_wait_bit_common', 'folio_wait_writeback', 'nfs_write_begin'])?.primary).toBe('writeback');
    expect(classifyFrames([], 'rpc_wait_bit_killable')?.primary).toBe('nfs-rpc-wait');
    expect(classifyFrames(['hrtimer_nanosleep', 'common_nsleep_timens'])).toBeUndefined();
    expect(classifyFrames(['nfs_wait_on_request.part.0'], 'nfs_wait_client_init_complete.isra.0')?.primary).toBe('nfs-client-init');
  });
});

describe('proc-syscall', () => {
  it('decodes flock(3, LOCK_EX) from the lab artifact (x86_64 nr 73)', () => {
    const out = parseText('proc-syscall', fixture('stuck/flock-syscall.txt'));
    const s = d<ProcSyscallData>(out.events[0]);
    expect(s).toMatchObject({ nr: 73, decoded: 'flock(3, LOCK_EX)', sp: '0x7ffc5234dc78', pc: '0x7f9fa7b7a897' });
    expect(s.names).toEqual({ x86_64: 'flock', arm64: 'ppoll' });
  });

  it('reads headers, running and -1 forms', () => {
    const out = parseText('proc-syscall', '# /proc/10/syscall\nrunning\n==> /proc/11/syscall <==\n-1 0x7ffd2d3f3758 0x7fae57419897\n--- 12 ---\n32 0x4 0x6 0x0 0x0 0x0 0x0 0x7ff 0x7fe');
    expect(out.events.map((e) => e.pid)).toEqual([10, 11, 12]);
    expect(d<ProcSyscallData>(out.events[0]).running).toBe(true);
    expect(d<ProcSyscallData>(out.events[1]).nr).toBe(-1);
    expect(d<ProcSyscallData>(out.events[2]).decodedArm64).toBe('flock(4, LOCK_EX|LOCK_NB)');
  });
});

describe('ps', () => {
  it('reads header-driven columns and flags D state', () => {
    const out = parseText('ps', fixture('stuck/hangwrite-ps.txt'));
    expect(out.warnings).toEqual([]);
    const [dd, sh] = out.events.map((e) => d<ProcessData>(e));
    expect(out.events.map((e) => e.pid)).toEqual([16743, 16763]);
    expect(dd).toMatchObject({ ppid: 1, stat: 'S', dState: false, wchan: 'request_wait_answer', waitClass: 'fuse-request-wait', comm: 'dd' });
    expect(sh).toMatchObject({ stat: 'D', dState: true, wchan: 'fuse_file_write_iter', args: 'sh -c echo second >> /tmp/nfs-lab/fuse/mnt/hangwrite' });
  });

  it('reads ELAPSED and keeps spaces in the command', () => {
    const out = parseText('ps', fixture('stuck/rerun/flock.txt'));
    const rows = ofKind(out.events, 'process');
    expect(rows.map((e) => d<ProcessData>(e).stat)).toEqual(['S', 'D']);
    expect(d<ProcessData>(rows[1])).toMatchObject({ elapsedSeconds: 6, ppid: 31660, args: 'flock -x /tmp/nfs-lab/stuckdemo/mnt/lockme -c date -u +%FT%T.%6NZ; echo got-lock' });
  });

  it('reads etimes in seconds and d-hh:mm:ss elapsed', () => {
    const out = parseText('ps', '  PID  PPID S ETIMES WCHAN COMM\n  10  1 D 3600 nfs4_delay_killable php-fpm\n');
    expect(d<ProcessData>(out.events[0])).toMatchObject({ elapsedSeconds: 3600, waitClass: 'nfs4-delay', comm: 'php-fpm', dState: true });
    const e2 = parseText('ps', '  PID STAT ELAPSED CMD\n 5 S 1-02:03:04 x y').events[0];
    expect(d<ProcessData>(e2).elapsedSeconds).toBe(93784);
  });
});

describe('proc-locks', () => {
  it('reads held locks and a -> waiter (hex device, EOF)', () => {
    const out = parseText('proc-locks', fixture('stuck/local-flock-contention.txt'));
    const locks = ofKind(out.events, 'lock').map((e) => d<LockData>(e));
    expect(locks).toHaveLength(5);
    expect(locks[4]).toMatchObject({ id: 4, waiter: true, type: 'FLOCK', access: 'WRITE', ownerPid: 17392, dev: 'fe:00', major: 254, minor: 0, inode: 2146369, wholeFile: true });
    expect(locks[3]).toMatchObject({ id: 4, waiter: false, ownerPid: 17388 });
  });

  it('reads OFD locks with owner -1 on the filer', () => {
    const out = parseText('proc-locks', fixture('stuck/proc-locks-server-while-v4-held.txt'));
    const ofd = ofKind(out.events, 'lock').find((e) => d<LockData>(e).type === 'OFDLCK')!;
    expect(d<LockData>(ofd)).toMatchObject({ ownerPid: -1, inode: 2146372 });
    expect(ofd.pid).toBeUndefined();
  });
});

describe('mountstats', () => {
  const out = parseText('mountstats', fixture('logs/prometheus-procfs__proc_26231_mountstats.txt'));
  const nfs = out.events.map((e) => d<MountstatsData>(e)).find((m) => m.nfs)!;

  it('reads the prometheus/procfs sample', () => {
    expect(out.events).toHaveLength(5);
    expect(nfs).toMatchObject({ device: '192.168.1.1:/srv/test', mountpoint: '/mnt/nfs/test', fstype: 'nfs4', statvers: '1.1', age: 13968, progVers: '100003/4', iostatsVersion: '1.0' });
    expect(nfs.opts?.vers).toBe('4.0');
    expect(nfs.opts?.hard).toBe(true);
    expect(Object.keys(nfs.events!)).toHaveLength(27);
    expect(nfs.events?.inoderevalidates).toBe('52');
    expect(nfs.events?.vfsrelease).toBe('77');
    expect(nfs.events?.delay).toBe('0');
    expect(nfs.xprt).toEqual({ proto: 'tcp', fields: { srcport: '832', bind_count: '0', connect_count: '1', connect_time: '0', idle_time: '11', sends: '6428', recvs: '6428', bad_xids: '0', req_u: '12154', bklog_u: '0', max_slots: '24', sending_u: '26', pending_u: '5726' } });
    const access = nfs.perOp!.find((o) => o.op === 'ACCESS')!;
    expect(access.queue_ms).toBe('18446743919241604546'); // beyond 2^53: kept exact
    expect(nfs.perOp!.map((o) => o.op)).toEqual(['NULL', 'READ', 'WRITE', 'ACCESS']);
  });

  it('computes deltas, with 64-bit wrap and udp layout by token count', () => {
    const later = fixture('logs/prometheus-procfs__proc_26231_mountstats.txt')
      .replace('READ: 1298 1298 0 207680 1210292152 6 79386 79407', 'READ: 1398 1398 0 207680 1210292152 3006 80386 83407')
      .replace('tcp 832 0 1 0 11 6428 6428 0 12154 0 24 26 5726', 'tcp 832 0 3 0 11 6528 6528 0 12254 700 24 26 5726')
      .replace('ACCESS: 2927395007 2927394995 0 526931094212 362996810236 18446743919241604546', 'ACCESS: 2927395008 2927394996 0 526931094212 362996810236 5')
      .replace('age:\t13968', 'age:\t14028');
    const b = parseText('mountstats', later).events.map((e) => d<MountstatsData>(e)).find((m) => m.nfs)!;
    const delta = mountstatsDelta(nfs, b);
    const read = delta.perOp.find((o) => o.op === 'READ')!;
    expect([read.ops, read.queue_ms, read.rtt_ms, read.execute_ms]).toEqual([100n, 3000n, 1000n, 4000n]);
    expect(delta.perOp.find((o) => o.op === 'ACCESS')!.queue_ms).toBe((1n << 64n) - 18446743919241604546n + 5n);
    expect(delta.xprt).toEqual({ sends: 100n, bklog_u: 700n, connectCountChange: 2n });
    expect(delta.ageSeconds).toBe(60);
    const udp = parseText('mountstats', 'device s:/e mounted on /m with fstype nfs statvers=1.1\n\txprt:\tudp 900 0 10 10 0 12 3').events[0];
    expect(d<MountstatsData>(udp).xprt?.fields).toMatchObject({ srcport: '900', sends: '10', bklog_u: '3' });
  });
});

describe('mounts, rpcinfo, systemctl, host-info', () => {
  it('reads NFS mounts from /proc/mounts, mount(8) and nfsstat -m (constructed in the kernel/nfs-utils formats)', () => {
    const text = [
      '10.231.0.13:/export /mnt/nfs nfs rw,relatime,vers=3,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,mountaddr=10.231.0.13,mountvers=3,mountport=20048,mountproto=udp,local_lock=none,addr=10.231.0.13 0 0',
      '/dev/vda / ext4 rw,relatime 0 0',
      'fs-1.efs.amazonaws.com:/ on /mnt/efs type nfs4 (rw,relatime,vers=4.1,soft,proto=tcp,timeo=600,retrans=2,nolock,local_lock=all)',
      '/mnt/x from srv:/x',
      ' Flags:\trw,vers=4.2,hard,proto=tcp,timeo=600,retrans=2,local_lock=flock',
    ].join('\n');
    const ms = parseText('mounts', text).events.map((e) => d<MountData>(e));
    expect(ms).toHaveLength(3);
    expect(ms[0]).toMatchObject({ server: '10.231.0.13', export: '/export', mountpoint: '/mnt/nfs', vers: '3', proto: 'tcp', hard: true, timeo: 600, retrans: 2, localLock: 'none' });
    expect(ms[1]).toMatchObject({ server: 'fs-1.efs.amazonaws.com', vers: '4.1', soft: true, nolock: true, localLock: 'all' });
    expect(ms[2]).toMatchObject({ fstype: 'nfs4', mountpoint: '/mnt/x', localLock: 'flock' });
  });

  it('reads rpcinfo tables, probes and errors (lab statd-down)', () => {
    const out = parseText('rpcinfo', fixture('logs/statd-down-rpcinfo.txt'));
    const rows = out.events.map((e) => d<RpcinfoData>(e));
    expect(rows.filter((r) => r.program !== undefined && r.port !== undefined)).toHaveLength(16);
    expect(rows.some((r) => r.service === 'status')).toBe(false);
    // Each line is attributed to the host its `# rpcinfo ... HOST` header queried.
    expect(rows).toContainEqual({ source: 'rpcinfo', error: 'Program not registered', target: '10.231.0.13' });
    expect(rows).toContainEqual({ source: 'rpcinfo', error: 'Remote system error - Connection refused', host: '10.231.0.11', target: '10.231.0.11' });
    expect(rows).toContainEqual({ source: 'rpcinfo', program: 100021, version: 4, ready: true, target: '10.231.0.13' });
    expect(rows.filter((r) => r.port !== undefined).every((r) => r.target === '10.231.0.13')).toBe(true);
    const filer = parseText('rpcinfo', fixture('ssh/lab-c-rpcinfo-in-filer-ns.txt')).events.map((e) => d<RpcinfoData>(e));
    expect(filer.filter((r) => r.service === 'status').map((r) => r.port)).toEqual([47276, 35679]);
  });

  it('systemctl without systemd is unknown, not dead; a status block is read', () => {
    const un = parseText('systemctl', "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down").events;
    expect(un).toHaveLength(1);
    expect(d<SystemctlData>(un[0]).state).toBe('unknown');
    const st = parseText('systemctl', [
      '○ rpc-statd.service - NFS status monitor for NFSv2/3 locking.',
      '     Loaded: loaded (/lib/systemd/system/rpc-statd.service; static)',
      '     Active: inactive (dead)',
      '● nfs-client.target - NFS client services',
      '     Loaded: loaded (/lib/systemd/system/nfs-client.target; enabled; preset: enabled)',
      '     Active: active since Sat 2026-11-21 22:48:00 UTC; 1h ago',
    ].join('\n')).events.map((e) => d<SystemctlData>(e));
    expect(st[0]).toMatchObject({ unit: 'rpc-statd.service', description: 'NFS status monitor for NFSv2/3 locking.', load: 'loaded', enabled: 'static', state: 'inactive', substate: 'dead' });
    expect(st[1]).toMatchObject({ unit: 'nfs-client.target', enabled: 'enabled', state: 'active', since: 'Sat 2026-11-21 22:48:00 UTC' });
  });

  it('computes the boot instant as now - uptime, exactly', () => {
    const t = 'Linux lab-a 6.18.44-fc-v669 #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n1611.56 3000.10\n1795300000.123456789\n';
    expect(bootTimeFromHostInfo(t)).toBe(1_795_300_000_123_456_789n - 1_611_560_000_000n);
    expect(bootTimeFromHostInfo('12.50 1.00\n2026-11-21T23:00:00.5Z')).toBe(parseIso('2026-11-21T23:00:00Z')! - 12_000_000_000n);
    const ev = parseText('host-info', t).events[0];
    expect(ev.data).toMatchObject({ hostname: 'lab-a', kernel: '6.18.44-fc-v669', arch: 'x86_64', uptime: '1611.56' });
    expect(bootTimeFromHostInfo('no numbers here')).toBeUndefined();
  });
});

describe('detectTextKind and decoding', () => {
  const head = (rel: string): string[] => fixture(rel).split('\n').slice(0, 60);
  it.each([
    ['kmsg/dmesg.txt', 'dmesg'], ['kmsg/dmesg-T.txt', 'dmesg'], ['kmsg/dmesg-x.txt', 'dmesg'], ['kmsg/dmesg.json', 'dmesg'],
    ['stuck/dmesg-hung-task.txt', 'dmesg'], ['logs/util-linux__dmesg_input_with_prio.txt', 'dmesg'],
    ['logs/util-linux__dmesg_expected_timestamp-format-multiple.txt', 'dmesg'],
    ['logs/linux-nfs-ml__nfs42_client_hang_sysrq_blocked.dmesg', 'dmesg'], ['logs/linux-nfs-ml__loopback_nfs_hung_task.dmesg', 'dmesg'],
    ['logs/linux-nfs-ml__nfs_not_responding_then_OK.dmesg', 'dmesg'], ['logs/linux-nfs-ml__nfsd_zombie_dmesgT_and_syslog.log', 'dmesg'],
    ['logs/linux-nfs-ml__random_io_errors_syslog_err1.log', 'dmesg'],
    ['logs/lnav__strace_tt_T.log', 'strace'], ['logs/lnav__strace_f_ttt_T.log', 'strace'], ['logs/lnav__strace_f_tt_T_yy.log', 'strace'],
    ['stuck/flock-strace.txt', 'strace'], ['stuck/rerun/flock-strace.txt', 'strace'],
    ['stuck/flock-stack-before-strace.txt', 'proc-stack'], ['stuck/hangwrite-stacks.txt', 'proc-stack'],
    ['stuck/flock-syscall.txt', 'proc-syscall'],
    ['stuck/flock-ps-before-strace.txt', 'ps'], ['stuck/hangwrite-ps.txt', 'ps'],
    ['stuck/proc-locks-during-flock.txt', 'proc-locks'], ['stuck/rerun/proc-locks.txt', 'proc-locks'],
    ['logs/prometheus-procfs__proc_26231_mountstats.txt', 'mountstats'],
    ['logs/statd-down-rpcinfo.txt', 'rpcinfo'], ['ssh/lab-c-rpcinfo-in-filer-ns.txt', 'rpcinfo'],
    ['stuck/flock-status-before.txt', 'text'], ['ssh/flock-client.out', 'text'], ['kmsg/kernel-knobs.txt', 'text'],
  ])('%s -> %s', (rel, kind) => {
    expect(detectTextKind(head(rel))).toBe(kind);
  });

  it('parseText never throws on garbage for any kind', () => {
    const junk = '\u0000\u0001\uFFFD{{{[[[((( = <unfinished ...>\n'.repeat(50);
    for (const k of ['dmesg', 'strace', 'proc-stack', 'proc-syscall', 'proc-locks', 'ps', 'mountstats', 'mounts', 'rpcinfo', 'systemctl', 'host-info'] as const) {
      const out = parseText(k, junk);
      expect(Array.isArray(out.events)).toBe(true);
    }
    expect(parseText('pcap', 'x').warnings[0]).toContain('no text parser');
  });

  it('decodes invalid UTF-8 with replacement characters and counts them', () => {
    const bytes = new Uint8Array([0x6f, 0x6b, 0xff, 0x20, 0xc3, 0xa9, 0x20, 0xe2, 0x82, 0x0a, 0xef, 0xbf, 0xbd]);
    const r = decodeTextBytes(bytes);
    expect(r.text).toBe('ok\uFFFD é \uFFFD\n\uFFFD');
    expect(r.replaced).toBe(2);
    expect(decodeTextBytes(new TextEncoder().encode('plain')).replaced).toBe(0);
  });

  it('splits CRLF text', () => {
    const out = parseText('dmesg', '[    1.000000] a\r\n[    2.000000] b\r\n', { bootTimeNs: 0n });
    expect(out.events.map((e) => e.text)).toEqual(['a', 'b']);
  });
});

describe('rpcinfo targets', () => {
  it('attributes rows to the host named in a header line, and none for a bare listing', async () => {
    const { parseText } = await import('../../shared/parsers');
    const text = [
      '# rpcinfo -p 10.231.0.13',
      '   program vers proto   port  service',
      '    100000    4   tcp    111  portmapper',
      '    100021    4   tcp  32803  nlockmgr',
      '# rpcinfo -p filer-2',
      '    100024    1   udp  41000  status',
      '$ rpcinfo -T tcp filer-3 100024',
      'rpcinfo: RPC: Program not registered',
    ].join('\n');
    const out = parseText('rpcinfo', text);
    expect(out.events.map((e) => [(e.data as { service?: string }).service ?? (e.data as { error?: string }).error, (e.data as { target?: string }).target])).toEqual([
      ['portmapper', '10.231.0.13'],
      ['nlockmgr', '10.231.0.13'],
      ['status', 'filer-2'],
      ['Program not registered', 'filer-3'],
    ]);
    const bare = parseText('rpcinfo', '   program vers proto   port  service\n    100000    4   tcp    111  portmapper\n');
    expect((bare.events[0]!.data as { target?: string }).target).toBeUndefined();
  });
});
