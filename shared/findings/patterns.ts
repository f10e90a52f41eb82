/**
 * The data the rules match: kernel message patterns and stack frame sets, with the kernel function or
 * format string each comes from (investigations.md §1, §7). Kept apart from rule logic so adding a
 * signature is a data change.
 */

/** A frame is NFS/RPC client work when its function has one of these prefixes or names. */
export const NFS_FRAME_PREFIXES = ['nfs_', 'nfs3_', 'nfs4_', 'nfs41_', 'nfs40_', 'nlmclnt_', 'nlm_', 'rpc_', '__rpc_', 'xprt_', 'call_', 'gss_'] as const;
export const NFS_FRAME_NAMES = new Set(['rpc_wait_bit_killable', '__rpc_execute', 'rpc_execute', 'nfs_wait_bit_killable', 'nfs4_delay_killable', 'nfs_wait_client_init_complete']);

export function isNfsFrame(fn: string): boolean {
  return NFS_FRAME_NAMES.has(fn) || NFS_FRAME_PREFIXES.some((p) => fn.startsWith(p));
}

/** Frames that say "this task is in flock()/fcntl(F_SETLKW)". flock on NFS goes nfs_flock -> do_setlk (fs/nfs/file.c). */
export const LOCK_SYSCALL_FRAMES = new Set(['__do_sys_flock', '__x64_sys_flock', '__arm64_sys_flock', '__se_sys_flock', 'sys_flock', 'ksys_flock', 'do_fcntl', 'fcntl_setlk', '__x64_sys_fcntl', '__arm64_sys_fcntl']);
export const NFS_LOCK_FRAMES = new Set(['nfs_flock', 'nfs_lock', 'do_setlk', 'nfs3_proc_lock', 'nfs4_proc_lock', 'nfs4_retry_setlk', 'nfs4_retry_setlk_simple', 'nfs4_proc_setlk', 'nlmclnt_proc', 'nlmclnt_lock', 'nlmclnt_call', 'nlmclnt_block']);

/** Sub-classes of a blocked lock call, by frames and state (investigations.md §7 proc.blocked-flock). */
export type LockWaitClass = 'nlm-conflict' | 'nfs4-conflict-poll' | 'server-silent' | 'nfs4-delay' | 'nfs4-recovery' | 'fuse-daemon' | 'local-contention' | 'unknown';

export function classifyLockWait(fns: readonly string[], state: string | undefined): LockWaitClass {
  const has = (f: string): boolean => fns.includes(f);
  if (has('fuse_setlk') || has('request_wait_answer') || fns.some((f) => f.startsWith('fuse_'))) return 'fuse-daemon';
  if (has('nfs4_delay_killable') || has('nfs4_delay_interruptible') || has('nfs4_delay')) return 'nfs4-delay';
  if (has('nfs4_wait_clnt_recover')) return 'nfs4-recovery';
  if (has('nlmclnt_block')) return 'nlm-conflict';
  if (has('nfs4_retry_setlk') || has('nfs4_retry_setlk_simple')) return state === 'D' && has('rpc_wait_bit_killable') ? 'server-silent' : 'nfs4-conflict-poll';
  if (has('rpc_wait_bit_killable') || has('__rpc_execute')) return 'server-silent';
  if (has('locks_lock_inode_wait') || has('flock_lock_inode_wait') || has('posix_lock_inode_wait')) return 'local-contention';
  return 'unknown';
}

/** Frames of NFSv4 client-ID set-up serialisation (fs/nfs/nfs4state.c, fs/nfs/client.c): the mount race. */
export const MOUNT_RACE_FRAMES = new Set(['nfs_wait_client_init_complete', 'nfs4_discover_server_trunking', 'nfs41_walk_client_list', 'nfs40_walk_client_list', 'nfs_match_client', 'nfs4_init_client', 'nfs41_init_clientid', 'nfs4_set_client', 'nfs_get_client']);
export const MOUNT_COMMS = /^(mount|mount\.nfs4?|mount\.nfs)$/;

// --- kernel messages -------------------------------------------------------------------------------------

/** net/sunrpc/clnt.c call_timeout / call_decode. */
export const SERVER_STATUS_RE = /^(\S+): server (\S+) (not responding, still trying|not responding, timed out|OK)$/;
/** fs/lockd/mon.c nsm_monitor. */
export const CANNOT_MONITOR_RE = /lockd: cannot monitor (\S+)/;
/** fs/lockd/clntproc.c (do_vfs_lock: on 2.6 kernels). */
export const VFS_OUT_OF_SYNC_RE = /(nlmclnt_lock|do_vfs_lock): VFS is out of sync with lock manager!/;
/** fs/lockd/clntlock.c reclaimer. */
export const FAILED_RECLAIM_RE = /lockd: failed to reclaim lock for pid (\d+) \(errno (-?\d+), status (\d+)\)/;
/** kernel/hung_task.c. */
export const HUNG_TASK_RE = /INFO: task (\S+):(\d+) blocked for more than (\d+) seconds\./;
export const HUNG_SUPPRESSED_RE = /Future hung task reports are suppressed/;
/** nfs-utils utils/mount/stropts.c (mount.nfs stderr). */
export const MOUNT_NO_STATD_RE = /rpc\.statd is not running but is required for remote locking/;
/** fs/nfsd/nfs4state.c nfs4_state_start_net: "NFSD: starting %lld-second grace period (net %x)". */
export const NFSD_GRACE_RE = /NFSD: starting (\d+)-second grace period/;
/** net/sunrpc/xprt.c debug text for a task waiting for a transport slot (rpcdebug -m rpc -s xprt). */
export const WAITING_FOR_SLOT_RE = /RPC:\s+(?:\d+\s+)?waiting for request slot/;
/** Task dump line (net/sunrpc/clnt.c rpc_show_task: "%5u %04x %6d %8p %8p %8ld %8p %sv%u %s a:%ps q:%s"; %p prints hashed hex without 0x): "... <prog>v<vers> <PROC> a:<action> q:<queue>". */
export const TASK_DUMP_RE = /^\s*(\d+)\s+([0-9a-f]{4})\s+(-?\d+)\s+(?:0x)?[0-9a-f]+\s+(?:0x)?[0-9a-f]+\s+(-?\d+)\s+(?:0x)?[0-9a-f]+\s+(\S+?)v(\d+)\s+(\S+)\s+a:(\S+)\s+q:(.*?)\s*$/;

/** NLM/NFS reply status names (shared/rpc/names.ts). */
export const NLM_NOLOCKS = new Set(['NLM4_DENIED_NOLOCKS', 'LCK_DENIED_NOLOCKS']);
export const NLM_GRACE = new Set(['NLM4_DENIED_GRACE_PERIOD', 'LCK_DENIED_GRACE_PERIOD']);
export const NLM_BLOCKED = new Set(['NLM4_BLOCKED', 'LCK_BLOCKED']);
export const NLM_GRANTED = new Set(['NLM4_GRANTED', 'LCK_GRANTED']);
export const NLM_DENIED = new Set(['NLM4_DENIED', 'LCK_DENIED']);
/** Ops a delegation recall can hold up (RFC 8881 §10.4: conflicting OPEN, SETATTR size, REMOVE, RENAME, LINK; LOCK). */
export const RECALL_TRIGGER_OPS = new Set(['OPEN', 'SETATTR', 'REMOVE', 'RENAME', 'LINK', 'LOCK']);

/** Kernel threads and our own helpers that sit in D by design. */
export const KERNEL_THREAD_RE = /^(\[.*\]|kworker\/.*|kthreadd|nfsd|lockd|rpciod|nfsiod|khungtaskd|kswapd\d*|jbd2\/.*|ksoftirqd\/.*|migration\/.*|rcu_.*|callback|nfsv4\.\d+-svc|NFSv4 callback|.*-manager)$/;
