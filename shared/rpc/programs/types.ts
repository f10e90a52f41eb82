import type { RpcProgramName } from '../types';
import type { XdrReader } from '../xdr';

/**
 * File handle -> path names learnt from the traffic itself (MOUNT MNT, NFSv3 LOOKUP replies, NFSv4
 * PUTROOTFH/LOOKUP/GETFH). Bounded: the oldest entries go first, so memory does not grow with the capture.
 */
export class FhNames {
  // Two generations instead of evicting one entry at a time: O(1) without Map deletions (a V8 Map whose
  // front is deleted over and over makes keys().next() walk the holes).
  private cur = new Map<string, string>();
  private prev = new Map<string, string>();
  constructor(private readonly max = 50_000) {}
  get(fh: string): string | undefined {
    return this.cur.get(fh) ?? this.prev.get(fh);
  }
  set(fh: string, path: string): void {
    if (this.cur.size >= this.max) {
      this.prev = this.cur;
      this.cur = new Map();
    }
    this.cur.set(fh, path);
  }
}

export interface DecodeContext {
  readonly fhNames: FhNames;
  /** Callback program numbers announced by clients (SETCLIENTID cb_program, CREATE_SESSION/BACKCHANNEL_CTL). */
  readonly cbPrograms: Set<number>;
}

/** Filled in as decoding goes: what was decoded before a short read survives it. */
export interface CallOut {
  readonly detail: Record<string, unknown>;
  ops?: string[];
}

export interface ReplyOut {
  status?: string;
  statusCode?: number;
  opStatuses?: string[];
}

export interface ProgramDecoder {
  readonly name: RpcProgramName;
  readonly number: number;
  knowsVersion(version: number): boolean;
  procName(version: number, proc: number): string;
  /** The call's arguments name operations (COMPOUND): a service-time table needs them decoded. */
  readonly listsOps?: boolean;
  decodeCall(r: XdrReader, version: number, proc: number, out: CallOut, ctx: DecodeContext): void;
  decodeReply(r: XdrReader, version: number, proc: number, out: ReplyOut, call: CallOut, ctx: DecodeContext): void;
}

export function joinPath(dir: string | undefined, name: string): string | undefined {
  if (dir === undefined) return undefined;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
