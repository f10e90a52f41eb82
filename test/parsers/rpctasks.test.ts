import { describe, expect, it } from 'vitest';
import { detectTextKind, parseText } from '../../shared/parsers';
import type { RpcTaskData } from '../../shared/parsers/rpctasks';
import { queueMeaning } from '../../shared/parsers/rpctasks';
import { d, fixture } from './helpers';

const tasks = (kind: 'rpc-tasks', text: string, ctx = {}): RpcTaskData[] => parseText(kind, text, ctx).events.filter((e) => e.kind === 'log').map((e) => d<RpcTaskData>(e));

describe('sunrpc task dumps', () => {
  it('reads rpc_show_tasks lines from a syslog (real linux-nfs report, kernel 4.19, hashed pointers, "(null)" rqstp)', () => {
    const text = fixture('logs/linux-nfs-ml__rpc_tasks_syslog_fin_wait2.log');
    expect(detectTextKind(text.split('\n'))).toBe('rpc-tasks');
    const out = parseText('rpc-tasks', text, { bootTimeNs: 1_000_000_000_000_000_000n });
    const t = tasks('rpc-tasks', text);
    expect(t).toHaveLength(8);
    expect(t[0]).toMatchObject({
      taskPid: 57419, flags: '40a1', status: 0, client: '9b723c73', rqstp: '143cfadf', timeout: 30000, ops: '4ca953b5',
      program: 'nfs', version: 4, procedure: 'OPEN_NOATTR', action: 'call_connect_status', queue: 'xprt_pending',
      queueMeaning: 'reply-wait', source: 'dmesg', noSlot: false,
    });
    expect(t[1]).toMatchObject({ taskPid: 57420, status: -11, rqstp: '(null)', noSlot: true, action: 'call_reserveresult', queue: 'xprt_sending', queueMeaning: 'transmit-wait' });
    expect(t.map((x) => x.procedure)).toEqual(['OPEN_NOATTR', 'OPEN_NOATTR', 'OPEN_NOATTR', 'LOOKUP', 'GETATTR', 'STATFS', 'STATFS', 'SEQUENCE']);
    // Boot-relative seconds inside the syslog line convert with the measured boot instant.
    expect(out.events[0].clock).toBe('boot');
    expect(out.events[0].ts).toBe(1_000_000_000_000_000_000n + 437_414_133_158_000n);
    // The "RPC: 57419 ..." debug lines after the dump are not tasks.
    expect(out.warnings).toEqual(['3 line(s) were not sunrpc task lines (first at line 10); skipped']);
  });

  it('reads /sys/kernel/debug/sunrpc/rpc_clnt/*/tasks (real: session-slot waiters behind a stuck TLS transport)', () => {
    const text = fixture('logs/linux-nfs-ml__rpc_clnt_tasks_debugfs_tls_hang.txt');
    expect(detectTextKind(text.split('\n'))).toBe('rpc-tasks');
    const out = parseText('rpc-tasks', text, { collectedAtNs: 5n });
    expect(out.warnings).toEqual([]);
    const t = out.events.map((e) => d<RpcTaskData>(e));
    expect(t[0]).toMatchObject({
      taskPid: 6, flags: '5285', status: 0, clientId: 0, xid: '0x0', noSlot: true, ops: 'nfs41_sequence_ops [nfsv4]',
      program: 'nfs', version: 4, procedure: 'SEQUENCE', action: 'rpc_prepare_task', queue: 'ForeChannel Slot table',
      queueMeaning: 'session-slot', source: 'debugfs',
    });
    expect(t[1]).toMatchObject({ taskPid: 1460, clientId: 5, xid: '0x2a2113be', noSlot: false, queueMeaning: 'transmit-wait', ops: 'nfs_pgio_common_ops [nfs]' });
    expect(t.filter((x) => x.queueMeaning === 'session-slot').map((x) => x.taskPid)).toEqual([6, 1490, 1491, 1492]);
    expect(out.events[0].level).toBe('warn');
    expect(out.events[0].clock).toBe('collector');
    expect(out.events[0].ts).toBe(5n);
  });

  it('reads the real transport-backlog dump (netdev report, NFSv3 GETATTR waiting in xprt_backlog)', () => {
    const text = fixture('logs/netdev-ml__rpc_clnt_tasks_debugfs_backlog.txt');
    expect(detectTextKind(text.split('\n'))).toBe('rpc-tasks');
    const t = tasks('rpc-tasks', text);
    expect(t.map((x) => [x.taskPid, x.program, x.version, x.procedure, x.status, x.queueMeaning])).toEqual([
      [155, 'nfs', 3, 'GETATTR', -11, 'transport-slot'], [15418, 'nfs', 3, 'GETATTR', -11, 'transport-slot'],
    ]);
  });

  it('reads a raw dmesg dump with unhashed 16-digit pointers and NULL printed as 0 (constructed from rpc_show_task)', () => {
    const text = fixture('logs/constructed__rpc_tasks_dmesg.txt');
    expect(detectTextKind(text.split('\n'))).toBe('rpc-tasks');
    const t = tasks('rpc-tasks', text);
    expect(t.map((x) => [x.taskPid, x.client, x.rqstp, x.noSlot, x.timeout, x.action, x.queueMeaning])).toEqual([
      [37135, 'ffff8ba4b6b0a200', 'ffff8ba4a1a8e000', false, 60000, 'call_status', 'reply-wait'],
      [37136, 'ffff8ba4b6b0a200', '0', true, 0, 'call_reserveresult', 'transport-slot'],
      [37137, 'ffff8ba4b6b0a200', '0', true, 0, 'rpc_prepare_task', 'session-slot'],
      [37138, 'ffff8ba4b6b0a200', '0', true, 0, 'call_start', 'none'],
    ]);
    expect(t[3].procedure).toBe('NULL');
  });

  it('handles the odd procedure and program names rpc_proc_name and cl_program can print', () => {
    const text = [
      'Feb 02 11:01:52 nfsserver kernel: -pid- flgs status -client- --rqstp- -timeout ---ops--',
      'Feb 02 11:01:52 nfsserver kernel: 42135 2281      0 8ff8d038        0      500  1a6bcc0 nfs4_cbv1 CB_RECALL_ANY a:call_start [sunrpc] q:none',
      '  401 0080      0 0x3 0x0        0 rpc_default_ops [sunrpc] lockdv4 no proc a:call_start [sunrpc] q:none',
    ].join('\n');
    const t = tasks('rpc-tasks', text);
    expect(t.map((x) => [x.program, x.version, x.procedure, x.queue])).toEqual([['nfs4_cb', 1, 'CB_RECALL_ANY', 'none'], ['lockd', 4, 'no proc', 'none']]);
  });

  it('names every queue meaning and leaves unknown queues as other', () => {
    expect(['ForeChannel Slot table', 'xprt_backlog', 'xprt_pending', 'xprt_sending', 'delayq', 'xprt_binding', 'none', 'nfs4_cb_waitq'].map(queueMeaning))
      .toEqual(['session-slot', 'transport-slot', 'reply-wait', 'transmit-wait', 'delay', 'binding', 'none', 'other']);
  });

  it('leaves a long ring buffer with an embedded dump to the dmesg parser', () => {
    const dmesg = fixture('kmsg/dmesg.txt').split('\n').slice(0, 50);
    const dump = fixture('logs/constructed__rpc_tasks_dmesg.txt').split('\n');
    expect(detectTextKind([...dmesg.slice(0, 40), ...dump])).toBe('dmesg');
  });
});
