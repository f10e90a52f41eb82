/**
 * What a blocked task waits for, read from its kernel stack (/proc/PID/stack, a hung-task or sysrq trace) or,
 * failing that, from its wchan alone. Classes follow the wait functions named in investigations.md §1.1–1.4;
 * the order is most specific first, because one stack often matches several (an NLM lock wait also sits in
 * rpc_wait_bit_killable, a FUSE flock also passes __do_sys_flock).
 */
export const STACK_CLASSES = [
  'nfs-client-init', // NFSv4 client-ID set-up held by another mount (nfs_wait_client_init_complete, trunking discovery)
  'nfs4-state-recovery', // waiting for the state manager (nfs4_wait_clnt_recover)
  'nfs4-delay', // NFS4ERR_DELAY back-off sleep (nfs4_delay_killable)
  'nfs4-lock-poll', // blocking NFSv4 lock polling after NFS4ERR_DENIED (nfs4_retry_setlk)
  'nlm-lock-wait', // NLM lock call / GRANTED wait (nlmclnt_lock, nlmclnt_block)
  'fuse-request-wait', // waiting for the FUSE daemon's answer (request_wait_answer) or inside fuse_* code
  'nfs-rpc-wait', // an RPC in flight (rpc_wait_bit_killable, __rpc_execute)
  'rwsem', // rw-semaphore (rwsem_down_read/write_slowpath)
  'writeback', // page writeback / I/O wait (folio_wait_writeback, io_schedule)
  'flock', // local lock wait (locks_lock_inode_wait, flock_lock_inode, nfs_flock, do_setlk)
] as const;
export type StackClass = (typeof STACK_CLASSES)[number];

export interface StackClassification {
  /** The most specific class that matched. */
  readonly primary: StackClass;
  /** The frame (function name) that decided it. */
  readonly frame: string;
  /** Every class that matched, in priority order (primary first). */
  readonly all: readonly StackClass[];
}

type Matcher = (fn: string) => boolean;
const exact = (...names: string[]): Matcher => {
  const set = new Set(names);
  return (fn) => set.has(fn);
};
const prefix = (...ps: string[]): Matcher => (fn) => ps.some((p) => fn.startsWith(p));
const any = (...ms: Matcher[]): Matcher => (fn) => ms.some((m) => m(fn));

const RULES: ReadonlyArray<readonly [StackClass, Matcher]> = [
  ['nfs-client-init', exact('nfs_wait_client_init_complete', 'nfs4_discover_server_trunking', 'nfs41_walk_client_list', 'nfs40_walk_client_list', 'nfs_match_client')],
  ['nfs4-state-recovery', exact('nfs4_wait_clnt_recover')],
  ['nfs4-delay', exact('nfs4_delay_killable', 'nfs4_delay', 'nfs4_delay_interruptible')],
  ['nfs4-lock-poll', prefix('nfs4_retry_setlk')],
  ['nlm-lock-wait', exact('nlmclnt_block', 'nlmclnt_lock', 'nlmclnt_call', 'nlmclnt_proc')],
  ['fuse-request-wait', exact('request_wait_answer')],
  ['nfs-rpc-wait', exact('rpc_wait_bit_killable', '__rpc_execute', 'rpc_execute', '__rpc_wait_for_completion_task')],
  ['rwsem', prefix('rwsem_down_')],
  ['writeback', any(exact('folio_wait_writeback', 'io_schedule', 'wait_on_page_writeback', 'folio_wait_bit_common', 'wait_on_page_bit_common', 'nfs_wb_all'), prefix('io_schedule'))],
  ['flock', any(exact('nfs_flock', 'do_setlk', '__do_sys_flock', 'locks_lock_inode_wait', 'fcntl_setlk', 'posix_lock_inode_wait'), prefix('flock_lock'))],
];

// fuse_* frames without request_wait_answer (e.g. fuse_file_write_iter waiting for the inode lock): FUSE, lower priority.
const FUSE_ANY = prefix('fuse_', '__fuse_');

/** Strip a compiler suffix ("nfs_wait_on_request.part.0", "foo.cold", "bar.isra.0") so names compare. */
export function baseName(fn: string): string {
  const dot = fn.indexOf('.');
  return dot > 0 ? fn.slice(0, dot) : fn;
}

/**
 * Classify a stack (function names, innermost first, as printed) and/or a wchan symbol.
 * Returns undefined when nothing known matches (a task sleeping in poll or nanosleep).
 */
export function classifyFrames(frames: readonly string[], wchan?: string): StackClassification | undefined {
  const names = frames.map(baseName);
  if (wchan && wchan !== '-' && wchan !== '0') names.unshift(baseName(wchan));
  const all: StackClass[] = [];
  let primary: StackClass | undefined;
  let frame: string | undefined;
  for (const [cls, match] of RULES) {
    const hit = names.find(match);
    if (hit === undefined) continue;
    all.push(cls);
    if (!primary) {
      primary = cls;
      frame = hit;
    }
  }
  if (!all.includes('fuse-request-wait')) {
    const f = names.find(FUSE_ANY);
    if (f !== undefined) {
      const at = all.findIndex((c) => c === 'nfs-rpc-wait' || c === 'rwsem' || c === 'writeback' || c === 'flock');
      if (at < 0) all.push('fuse-request-wait');
      else all.splice(at, 0, 'fuse-request-wait');
      if (!primary || primary === 'flock') {
        primary = 'fuse-request-wait';
        frame = f;
      }
    }
  }
  if (!primary || frame === undefined) return undefined;
  // keep `all` in priority order with the primary first
  const ordered = [primary, ...all.filter((c) => c !== primary)];
  return { primary, frame, all: ordered };
}
