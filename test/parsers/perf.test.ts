import { describe, expect, it } from 'vitest';
import { detectTextKind, parseText } from '../../shared/parsers';
import type { PerfData } from '../../shared/parsers/perf';
import { d, fixture, ofKind } from './helpers';

const lines = (t: string): string[] => t.split('\n');

describe('perf report / perf top', () => {
  it('reads perf report --stdio graph call chains with --children (lkml commit message sample)', () => {
    const text = fixture('logs/lkml__perf_report_stdio_children_graph.txt');
    expect(detectTextKind(lines(text))).toBe('perf');
    const out = parseText('perf', text);
    expect(out.warnings).toEqual([]);
    const p = ofKind(out.events, 'profile').map((e) => d<PerfData>(e));
    expect(p.map((x) => [x.comm, x.dso, x.symbol, x.childrenPct, x.selfPct])).toEqual([
      ['ls', '[kernel.vmlinux]', 'entry_SYSCALL_64_after_hwframe', 55.01, 0],
      ['ls', '[kernel.vmlinux]', 'do_syscall_64', 55.01, 39],
      ['ls', 'libpthread-2.29.so', '__pthread_initialize_minimal_internal', 42.95, 42.95],
      ['ls', 'libpthread-2.29.so', '_init', 42.95, 0],
    ]);
    expect(p[0].event).toBe('cycles');
    // A straight chain under "---" and a "--16.01%--" branch continuing at its own column.
    expect(p[0].chain.slice(0, 4)).toEqual(['entry_SYSCALL_64_after_hwframe', 'do_syscall_64', '__x64_sys_execve', '__do_execve_file.isra.0']);
    expect(p[0].chain.at(-1)).toBe('memcpy_erms');
    expect(p[0].chain).toHaveLength(16);
    // Two sibling branches under the entry: two paths, heaviest first, "(inlined)" frames kept whole.
    expect(p[1].paths.map((x) => [x.pct, x.chain[0], x.chain.length])).toEqual([[39, '0xffffffffffffffff', 6], [16.01, 'do_syscall_64', 15]]);
    expect(p[1].chain).toContain('__lseek64 (inlined)');
    expect(p[3].chain).toEqual(['_init', '__pthread_initialize_minimal_internal']);
    expect(out.events[1].line).toBe(32);
    expect(out.events[1].endLine).toBe(55);
  });

  it('reads the TUI fold layout of seed 004 (entry row with fold sign, indented callee chain)', () => {
    const text = fixture('logs/seed004__perf_report_fold_excerpt.txt');
    expect(detectTextKind(lines(text))).toBe('perf');
    const out = parseText('perf', text);
    expect(out.warnings).toEqual([]);
    expect(out.events).toHaveLength(1);
    const p = d<PerfData>(out.events[0]);
    expect([p.comm, p.dso, p.symbol, p.space, p.childrenPct, p.selfPct]).toEqual(['php-fpm', '[kernel.vmlinux]', 'entry_SYSCALL_64_after_hwframe', 'k', 92.45, 0]);
    expect(p.chain).toEqual([
      'entry_SYSCALL_64_after_hwframe', 'do_syscall_64', 'ksys_newstat', 'vfs_statx', 'vfs_getattr_nosec', 'nfs_getattr',
      'nfs4_call_sync', 'rpc_call_sync', 'rpc_execute', 'rpc_wait_bit_killable', 'schedule',
    ]);
    expect(p.paths).toEqual([{ pct: 87, chain: p.chain }]);
  });

  it('reads the real perf top sample: overhead table plus a call graph pasted without its row', () => {
    const text = fixture('logs/linux-nfs-ml__perf_top_nfsd_reexport.txt');
    expect(detectTextKind(lines(text))).toBe('perf');
    const out = parseText('perf', text);
    const p = ofKind(out.events, 'profile').map((e) => d<PerfData>(e));
    expect(p.slice(0, 4).map((x) => [x.selfPct, x.childrenPct, x.comm, x.symbol])).toEqual([
      [82.91, undefined, 'nfsd', 'native_queued_spin_lock_slowpath'],
      [8.24, undefined, 'swapper', 'intel_idle'],
      [4.66, undefined, 'nfsd', '__list_lru_walk_one'],
      [0.8, undefined, 'nfsd', 'nfsd_file_lru_cb'],
    ]);
    const tree = p[4];
    expect(tree.symbol).toBeUndefined();
    // Leaves print two blanks instead of a fold sign: "2.46% __list_lru_walk_one" is a sibling of _raw_spin_lock.
    expect(tree.paths.map((x) => [x.pct, x.chain.at(-1), x.chain.at(-2)])).toEqual([
      [30.2, 'native_queued_spin_lock_slowpath', 'queued_spin_lock_slowpath'],
      [2.46, '__list_lru_walk_one', 'list_lru_walk_one'],
      [19.38, 'native_queued_spin_lock_slowpath', 'queued_spin_lock_slowpath'],
      [31.26, 'native_queued_spin_lock_slowpath', 'queued_spin_lock_slowpath'],
      [2.5, '__list_lru_walk_one', 'list_lru_walk_one'],
      [0.5, 'nfsd_file_lru_cb', 'list_lru_walk_one'],
    ]);
    expect(tree.chain.slice(0, 6)).toEqual(['nfsd', 'svc_process', 'svc_process_common', 'nfsd_dispatch', 'nfsd4_proc_compound', 'nfsd4_open']);
    expect(tree.paths[3].chain).toContain('nfsd4_close');
    // The prose line between table and graph is reported, not swallowed.
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/line 9/);
  });

  it('stamps events with the collection time when known and never mistakes prose for frames', () => {
    const text = fixture('logs/seed004__perf_report_fold_excerpt.txt');
    const out = parseText('perf', `${text}\nThe stack trace is definitive.\n`, { collectedAtNs: 1_700_000_000_000_000_000n });
    expect(out.events[0].ts).toBe(1_700_000_000_000_000_000n);
    expect(out.events[0].clock).toBe('collector');
    expect(d<PerfData>(out.events[0]).chain).toHaveLength(11);
    expect(out.warnings).toHaveLength(1);
  });
});
