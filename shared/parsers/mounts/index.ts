import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { parseOpts } from '../mountstats';

/** `data` of 'mount' events: one NFS mount from /proc/mounts, `mount` output or `nfsstat -m`. */
export interface MountData {
  readonly device: string;
  readonly server?: string | undefined;
  readonly export?: string | undefined;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly options: Readonly<Record<string, string | true>>;
  readonly vers?: string | undefined;
  readonly proto?: string | undefined;
  readonly hard?: boolean | undefined;
  readonly soft?: boolean | undefined;
  readonly timeo?: number | undefined;
  readonly retrans?: number | undefined;
  /** local_lock=none|flock|posix|all (kernel >= 2.6.37). */
  readonly localLock?: string | undefined;
  /** nolock: NLM not used, all locks local. */
  readonly nolock?: boolean | undefined;
}

// /proc/mounts (fs/proc_namespace.c show_vfsmnt): "dev mnt type opts 0 0", spaces escaped as \040.
const PROC = /^(\S+) (\S+) (nfs4?|nfs) (\S+) \d+ \d+$/;
// mount(8): "dev on mnt type nfs4 (opts)"
const MOUNT = /^(\S+) on (\S+) type (nfs4?|nfs) \((.*)\)$/;
// nfsstat -m: "/mnt from server:/export" then " Flags:\trw,vers=3,..."
const NFSSTAT = /^(\S+) from (\S+)$/;
const FLAGS = /^\s*Flags:\s*(\S+)/;

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

function mountEvent(ctx: ParseContext, lineNo: number, device: string, mountpoint: string, fstype: string, optText: string): ParsedEvent {
  const options = parseOpts(optText);
  const colon = device.lastIndexOf(':/');
  const server = colon > 0 ? device.slice(0, colon).replace(/^\[|\]$/g, '') : undefined;
  const exp = colon > 0 ? device.slice(colon + 1) : undefined;
  const str = (k: string): string | undefined => (typeof options[k] === 'string' ? (options[k] as string) : undefined);
  const vers = str('vers') ?? str('nfsvers') ?? (fstype === 'nfs4' ? '4' : undefined);
  const data: MountData = {
    device, server, export: exp, mountpoint, fstype, options, vers, proto: str('proto'),
    hard: options.hard === true || undefined, soft: options.soft === true || options.softerr === true || undefined,
    timeo: str('timeo') !== undefined ? Number(str('timeo')) : undefined,
    retrans: str('retrans') !== undefined ? Number(str('retrans')) : undefined,
    localLock: str('local_lock'), nolock: options.nolock === true || undefined,
  };
  return {
    kind: 'mount', ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? 'collector' : 'none', line: lineNo,
    text: `${device} on ${mountpoint} ${fstype}${vers ? ` vers=${vers}` : ''}${data.proto ? ` proto=${data.proto}` : ''}${data.soft ? ' soft' : ''}${data.nolock ? ' nolock' : ''}`,
    data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
  };
}

export function createMountsParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let pending: { mnt: string; dev: string; line: number } | undefined;
  return {
    line(text, lineNo) {
      const p = PROC.exec(text);
      if (p) {
        emit(mountEvent(ctx, lineNo, unescape(p[1]), unescape(p[2]), p[3], p[4]));
        return;
      }
      const m = MOUNT.exec(text);
      if (m) {
        emit(mountEvent(ctx, lineNo, m[1], m[2], m[3], m[4]));
        return;
      }
      const n = NFSSTAT.exec(text);
      if (n) {
        pending = { mnt: n[1], dev: n[2], line: lineNo };
        return;
      }
      const f = FLAGS.exec(text);
      if (f && pending) {
        const opts = parseOpts(f[1]);
        const v = typeof opts.vers === 'string' ? opts.vers : '';
        emit(mountEvent(ctx, pending.line, pending.dev, pending.mnt, v.startsWith('4') ? 'nfs4' : 'nfs', f[1]));
        pending = undefined;
      }
    },
    end() {},
  };
}

export const mountsSpec: TextParserSpec = {
  kind: 'mounts',
  detect(head) {
    const hit = head.filter((l) => PROC.test(l) || MOUNT.test(l) || NFSSTAT.test(l)).length;
    const procLike = head.filter((l) => /^\S+ \/\S* \S+ \S+ \d \d$/.test(l)).length;
    if (hit > 0) return 0.9;
    return procLike >= 3 ? 0.5 : 0;
  },
  create: createMountsParser,
};
