/** XDR pieces shared by the NFSv4 forward (COMPOUND) and callback (CB_COMPOUND) decoders (RFC 7530, 8881, 7862). */
import { NFS4_DELEG_TYPE, NFS4_LOCK_TYPE, nameOr } from '../names';
import type { XdrReader } from '../xdr';

export type Obj = Record<string, unknown>;

/** stateid4: seqid + 12-byte other, shown as 32 hex digits. */
export const stateid = (r: XdrReader): string => r.fixedHex(16);
export const sessionid = (r: XdrReader): string => r.fixedHex(16);
export const fh4 = (r: XdrReader): string => r.opaqueHex(128);

/** fattr4: attrmask + opaque attr_vals. We keep the mask only. */
export function fattr4(r: XdrReader): number[] {
  const mask = r.bitmap();
  r.skipOpaque();
  return mask;
}

export function changeInfo(r: XdrReader): void {
  r.skip(20); // atomic bool, before u64, after u64
}

export function lockOwner(r: XdrReader): { clientid: string; owner: string } {
  const clientid = r.fixedHex(8);
  const owner = r.owner();
  return { clientid, owner };
}

export function netaddr(r: XdrReader): string {
  const netid = r.string(64);
  const addr = r.string(128);
  return `${netid}:${addr}`;
}

export function nfstime(r: XdrReader): void {
  r.skip(12);
}

export function nfsace(r: XdrReader): void {
  r.skip(12);
  r.skipOpaque();
}

/** open_delegation4 (RFC 8881 §18.16.2): the delegation a server granted with OPEN (or WANT_DELEGATION, CB_PUSH_DELEG). */
export function openDelegation(r: XdrReader, o: Obj): void {
  const t = r.u32();
  o.delegationType = nameOr(NFS4_DELEG_TYPE, t, 'OPEN_DELEGATE_');
  switch (t) {
    case 0:
      return;
    case 1:
    case 4:
      o.delegStateid = stateid(r);
      o.recall = r.bool();
      nfsace(r);
      return;
    case 2:
    case 5: {
      o.delegStateid = stateid(r);
      o.recall = r.bool();
      const limitBy = r.u32();
      if (limitBy === 1) r.skip(8);
      else r.skip(8); // NFS_LIMIT_BLOCKS: num_blocks, bytes_per_block
      nfsace(r);
      return;
    }
    case 3: {
      const why = r.u32();
      o.whyNoDelegation = why;
      if (why === 7 || why === 8) r.bool();
      return;
    }
    default:
      throw new RangeError('unknown delegation type');
  }
}

export const lockType = (n: number): string => nameOr(NFS4_LOCK_TYPE, n, 'LOCKTYPE_');

/** LOCK4denied: the conflicting lock the server names on NFS4ERR_DENIED (LOCK, LOCKT). */
export function lockDenied(r: XdrReader): Obj {
  const offset = r.u64();
  const length = r.u64();
  const locktype = lockType(r.u32());
  const { clientid, owner } = lockOwner(r);
  return { offset, length, locktype, clientid, owner };
}

/** callback_sec_parms4<> (CREATE_SESSION, BACKCHANNEL_CTL). */
export function cbSecParms(r: XdrReader): void {
  const n = r.count(64);
  for (let i = 0; i < n; i++) {
    const flavor = r.u32();
    if (flavor === 1) {
      r.u32();
      r.skipOpaque();
      r.skip(8);
      const g = r.count(16);
      r.skip(4 * g);
    } else if (flavor === 6) {
      r.u32();
      r.skipOpaque();
      r.skipOpaque();
    }
  }
}

/** channel_attrs4 (RFC 8881 §18.36). */
export function channelAttrs(r: XdrReader): Obj {
  const a: Obj = {
    ca_headerpadsize: r.u32(),
    ca_maxrequestsize: r.u32(),
    ca_maxresponsesize: r.u32(),
    ca_maxresponsesize_cached: r.u32(),
    ca_maxoperations: r.u32(),
    ca_maxrequests: r.u32(),
  };
  const n = r.count(1);
  if (n === 1) a.ca_rdma_ird = r.u32();
  return a;
}

/** state_protect_ops4: two bitmaps. */
export function spOps(r: XdrReader): void {
  r.bitmap();
  r.bitmap();
}

/** write_response4 (RFC 7862 §15.2). */
export function writeResponse(r: XdrReader, o: Obj): void {
  const n = r.count(1);
  if (n === 1) o.callbackStateid = stateid(r);
  o.count = r.u64();
  o.committed = r.u32();
  r.skip(8);
}

/** netloc4 (RFC 7862 §15.2). */
export function netloc(r: XdrReader): string {
  const t = r.u32();
  if (t === 3) return netaddr(r);
  return r.string(256);
}
