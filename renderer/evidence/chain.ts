/**
 * The evidence chain of a blocked lock call, as one list: the strace call ↔ its /proc/locks row ↔ the NLM or
 * NFSv4 lock packets ↔ the kernel's lock-manager lines (issue 6). Built from the selected event, the events
 * `timeline.related` links to it (same pid, XID, file handle, lock owner) and the lock-related events of a
 * window around it. Pure: the panel fetches, this decides what belongs and in which order.
 */

export const CHAIN_WINDOW_NS = 60_000_000_000n;
export const MAX_PER_STAGE = 25;

export type ChainStage = 'syscall' | 'lock' | 'rpc' | 'kernel';
export const STAGES: readonly ChainStage[] = ['syscall', 'lock', 'rpc', 'kernel'];
export const STAGE_LABEL: Readonly<Record<ChainStage, string>> = {
  syscall: 'Lock call (strace)',
  lock: '/proc/locks',
  rpc: 'Lock protocol (NLM / NFSv4)',
  kernel: 'Kernel lock manager',
};

/** The fields of an API event the chain reads. */
export interface ChainEvent {
  readonly id: number;
  readonly hostId?: number | undefined;
  readonly kind: string;
  readonly tsNs?: string | undefined;
  readonly correctedNs?: string | undefined;
  readonly pid?: number | undefined;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface ChainItem {
  readonly stage: ChainStage;
  readonly event: ChainEvent;
  /** Why it is in the chain ("selected", "same pid 4242", "NLM within 1.2 s"...). */
  readonly reason: string;
  /** Signed distance from the selected event, when both have a time. */
  readonly deltaNs: bigint | undefined;
  readonly linked: boolean;
}

// strace: flock(2), fcntl(2) record locks (F_SETLK, F_SETLKW, F_GETLK and the OFD variants), lockf(3) (which is fcntl underneath).
const LOCK_CALL = /^(?:flock|lockf)\(|^fcntl(?:64)?\([^)]*F_(?:OFD_)?(?:SETLKW?|GETLK)/;
// Kernel lines of the lock manager and its status monitor (fs/lockd, fs/nfs_common/grace.c, nfs4 state recovery).
const LOCK_KERNEL = /\b(?:lockd|nlm\w*|statd|rpc\.statd|NLM|NSM)\b|lock manager|grace period|reclaim/i;
const NFS4_LOCK_OPS = new Set(['LOCK', 'LOCKT', 'LOCKU', 'RELEASE_LOCKOWNER', 'CB_NOTIFY_LOCK']);

export function isLockCall(e: ChainEvent): boolean {
  if (e.kind !== 'syscall') return false;
  const name = typeof e.data.syscall === 'string' ? e.data.syscall : undefined;
  if (name === undefined) return LOCK_CALL.test(e.text);
  if (name === 'flock' || name === 'lockf') return true;
  return (name === 'fcntl' || name === 'fcntl64') && /F_(?:OFD_)?(?:SETLKW?|GETLK)/.test(e.text);
}

/** NLM and NSM (statd) calls, and NFSv4 compounds with lock operations. */
export function isLockRpc(e: ChainEvent): boolean {
  if (e.kind !== 'rpc') return false;
  const program = typeof e.data.program === 'string' ? e.data.program : '';
  if (program === 'nlm' || program === 'nsm') return true;
  const ops = Array.isArray(e.data.ops) ? e.data.ops : [];
  if ((program === 'nfs' || program === 'nfs_cb') && ops.some((o) => typeof o === 'string' && NFS4_LOCK_OPS.has(o))) return true;
  return /\b(?:NLMv\d|NSM)\b|\b(?:LOCKT?|LOCKU|CB_NOTIFY_LOCK)\b/.test(e.text) && program !== 'mount';
}

export function isLockKernel(e: ChainEvent): boolean {
  return e.kind === 'kernel' && LOCK_KERNEL.test(e.text);
}

function stageOf(e: ChainEvent): ChainStage | undefined {
  if (isLockCall(e)) return 'syscall';
  if (e.kind === 'lock') return 'lock';
  if (isLockRpc(e)) return 'rpc';
  if (isLockKernel(e)) return 'kernel';
  return undefined;
}

function timeOf(e: ChainEvent): bigint | undefined {
  const t = e.correctedNs ?? e.tsNs;
  return t === undefined ? undefined : BigInt(t);
}

function seconds(ns: bigint): string {
  const a = ns < 0n ? -ns : ns;
  return `${(Number(a) / 1e9).toFixed(a < 10_000_000_000n ? 3 : 1)} s`;
}

/**
 * The chain for `selected`. `related` are the ids timeline.related returned (with the keys that link them);
 * `candidates` are the events fetched around it (related ones and the window). The selected event is always
 * first in its stage; linked events (a shared key) before merely nearby ones; then by distance in time.
 */
export function buildChain(selected: ChainEvent, candidates: readonly ChainEvent[], related: ReadonlySet<number>, relatedKeys: readonly string[]): ChainItem[] {
  const t0 = timeOf(selected);
  const pidsOnHost = new Set<string>();
  if (selected.pid !== undefined) pidsOnHost.add(`${selected.hostId ?? '-'}:${selected.pid}`);
  const seen = new Set<number>();
  const byStage = new Map<ChainStage, ChainItem[]>();
  const push = (it: ChainItem): void => {
    if (seen.has(it.event.id)) return;
    seen.add(it.event.id);
    let l = byStage.get(it.stage);
    if (!l) byStage.set(it.stage, (l = []));
    l.push(it);
  };
  const delta = (e: ChainEvent): bigint | undefined => {
    const t = timeOf(e);
    return t === undefined || t0 === undefined ? undefined : t - t0;
  };

  push({ stage: stageOf(selected) ?? (selected.kind === 'syscall' ? 'syscall' : selected.kind === 'rpc' ? 'rpc' : selected.kind === 'lock' ? 'lock' : 'kernel'), event: selected, reason: 'selected', deltaNs: 0n, linked: true });

  // Lock calls first, so their pids can link /proc/locks rows (ownerPid) below.
  const ordered = [...candidates].sort((a, b) => (isLockCall(b) ? 1 : 0) - (isLockCall(a) ? 1 : 0));
  for (const e of ordered) {
    if (e.id === selected.id) continue;
    const stage = stageOf(e);
    if (!stage) continue;
    const d = delta(e);
    const isRelated = related.has(e.id);
    if (!isRelated && (d === undefined || (d < 0n ? -d : d) > CHAIN_WINDOW_NS)) continue;
    const samePid = e.pid !== undefined && pidsOnHost.has(`${e.hostId ?? '-'}:${e.pid}`);
    let reason: string;
    if (isRelated) reason = `shares ${relatedKeys.join(', ') || 'a key'}`;
    else if (samePid) reason = `same pid ${e.pid}`;
    else if (stage === 'lock' && e.data.waiter !== true && selected.kind === 'syscall') continue; // other processes' granted locks: noise
    else reason = d === undefined ? 'same window' : `${d < 0n ? '' : '+'}${d < 0n ? '−' : ''}${seconds(d)}`;
    if (stage === 'syscall' && e.pid !== undefined) pidsOnHost.add(`${e.hostId ?? '-'}:${e.pid}`);
    push({ stage, event: e, reason, deltaNs: d, linked: isRelated || samePid });
  }

  const out: ChainItem[] = [];
  for (const st of STAGES) {
    const l = byStage.get(st);
    if (!l) continue;
    const abs = (x: bigint | undefined): bigint => (x === undefined ? 1n << 62n : x < 0n ? -x : x);
    l.sort((a, b) => (a.reason === 'selected' ? -1 : b.reason === 'selected' ? 1 : 0) || Number(b.linked) - Number(a.linked) || (abs(a.deltaNs) < abs(b.deltaNs) ? -1 : abs(a.deltaNs) > abs(b.deltaNs) ? 1 : 0));
    out.push(...l.slice(0, MAX_PER_STAGE));
  }
  return out;
}
