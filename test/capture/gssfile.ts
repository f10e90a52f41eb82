/**
 * RPCSEC_GSS traffic (RFC 2203) built byte by byte, because no Kerberos realm can be stood up on these machines
 * for a real capture: a context INIT, NFSv3 GETATTR under the three services (none = krb5, integrity = krb5i,
 * privacy = krb5p) and a DESTROY, each with its reply, over UDP in Ethernet/IPv4 frames. The layouts follow
 * RFC 2203 §5 (rpc_gss_cred_vers_1_t, rpc_gss_init_res, rpc_gss_integ_data, rpc_gss_priv_data) and RFC 1813
 * (nfs_fh3, GETATTR3res); tshark decodes the file as an independent reading of the same bytes.
 */
import { writePcap, type Frame } from './pcapfile';

class Xdr {
  private readonly parts: Uint8Array[] = [];
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0);
    this.parts.push(b);
    return this;
  }
  opaque(bytes: Uint8Array): this {
    this.u32(bytes.length);
    const padded = new Uint8Array((bytes.length + 3) & ~3);
    padded.set(bytes);
    this.parts.push(padded);
    return this;
  }
  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    return this;
  }
  bytes(): Uint8Array {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) (out.set(p, o), (o += p.length));
    return out;
  }
}

const filled = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + 7) & 0xff);

/** A Kerberos v5 MIC token in RFC 4121 §4.2.6.1 layout (TOK_ID 04 04, flags, filler, SND_SEQ, a 12-byte checksum). */
function micToken(seed: number): Uint8Array {
  const t = new Uint8Array(28);
  t.set([0x04, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]);
  new DataView(t.buffer).setUint32(12, seed);
  t.set(filled(12, seed), 16);
  return t;
}

export const GSS_HANDLE = Uint8Array.of(0xca, 0xfe, 0x00, 0x01);
export const NFS_FH = filled(28, 1);

export type GssProc = 0 | 1 | 2 | 3; // DATA INIT CONTINUE_INIT DESTROY
export type GssService = 1 | 2 | 3; // none integrity privacy

function gssCred(proc: GssProc, seq: number, service: GssService, handle: Uint8Array): Uint8Array {
  return new Xdr().u32(1).u32(proc).u32(seq).u32(service).opaque(handle).bytes();
}

function call(xid: number, prog: number, vers: number, procNum: number, cred: Uint8Array, verf: { flavor: number; body: Uint8Array }, args: Uint8Array): Uint8Array {
  return new Xdr().u32(xid).u32(0).u32(2).u32(prog).u32(vers).u32(procNum).u32(6).opaque(cred).u32(verf.flavor).opaque(verf.body).raw(args).bytes();
}

function acceptedReply(xid: number, verf: { flavor: number; body: Uint8Array }, results: Uint8Array): Uint8Array {
  return new Xdr().u32(xid).u32(1).u32(0).u32(verf.flavor).opaque(verf.body).u32(0).raw(results).bytes();
}

/** GETATTR3res with NFS3_OK and a regular file's fattr3. */
function getattrOk(): Uint8Array {
  const x = new Xdr().u32(0).u32(1).u32(0o100644).u32(1).u32(1000).u32(1000);
  for (let i = 0; i < 16; i++) x.u32(i === 1 ? 4096 : i === 9 ? 42 : 0); // size, used, rdev, fsid, fileid, times
  return x.bytes();
}

function udpFrame(src: number, dst: number, sport: number, dport: number, payload: Uint8Array, sec: number, usec: number): Frame {
  const d = new Uint8Array(14 + 20 + 8 + payload.length);
  const dv = new DataView(d.buffer);
  d.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  dv.setUint16(12, 0x0800);
  dv.setUint8(14, 0x45);
  dv.setUint16(16, 20 + 8 + payload.length);
  dv.setUint8(22, 64);
  dv.setUint8(23, 17);
  dv.setUint32(26, src);
  dv.setUint32(30, dst);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += dv.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(24, ~sum & 0xffff);
  dv.setUint16(34, sport);
  dv.setUint16(36, dport);
  dv.setUint16(38, 8 + payload.length); // UDP checksum 0: not computed (allowed over IPv4)
  d.set(payload, 42);
  return { sec, usec, data: d };
}

export interface GssExchange {
  readonly xid: number;
  readonly what: string;
  readonly gssProc: 'INIT' | 'DATA' | 'DESTROY';
  readonly service: 'none' | 'integrity' | 'privacy';
  readonly seq: number;
}

/** The exchanges of gssCapture(), in order. */
export const GSS_EXCHANGES: readonly GssExchange[] = [
  { xid: 0x1000, what: 'INIT', gssProc: 'INIT', service: 'none', seq: 0 },
  { xid: 0x1001, what: 'GETATTR krb5', gssProc: 'DATA', service: 'none', seq: 1 },
  { xid: 0x1002, what: 'GETATTR krb5i', gssProc: 'DATA', service: 'integrity', seq: 2 },
  { xid: 0x1003, what: 'GETATTR krb5p', gssProc: 'DATA', service: 'privacy', seq: 3 },
  { xid: 0x1004, what: 'DESTROY', gssProc: 'DESTROY', service: 'none', seq: 4 },
  { xid: 0x1005, what: 'GETATTR krb5i on the destroyed context', gssProc: 'DATA', service: 'integrity', seq: 5 },
];

export function gssCapture(): Uint8Array {
  const client = (10 << 24) | (9 << 16) | 1;
  const server = (10 << 24) | (9 << 16) | 2;
  const none = { flavor: 0, body: new Uint8Array(0) };
  const mic = (seed: number) => ({ flavor: 6, body: micToken(seed) });
  const fh = new Xdr().opaque(NFS_FH).bytes();
  const msgs: [Uint8Array, Uint8Array][] = [];
  const [init, krb5, krb5i, krb5p, destroy, stale] = GSS_EXCHANGES as [GssExchange, GssExchange, GssExchange, GssExchange, GssExchange, GssExchange];
  // Context creation: NULL procedure, gss_proc INIT, the client's token as the argument (RFC 2203 §5.2.2).
  msgs.push([
    call(init.xid, 100003, 3, 0, gssCred(1, 0, 1, new Uint8Array(0)), none, new Xdr().opaque(filled(96, 2)).bytes()),
    acceptedReply(init.xid, none, new Xdr().opaque(GSS_HANDLE).u32(0).u32(0).u32(128).opaque(filled(40, 3)).bytes()),
  ]);
  // Data under service none: arguments and results in the clear, a MIC of the header as verifier.
  msgs.push([call(krb5.xid, 100003, 3, 1, gssCred(0, krb5.seq, 1, GSS_HANDLE), mic(4), fh), acceptedReply(krb5.xid, mic(5), getattrOk())]);
  // Integrity: rpc_gss_integ_data { opaque databody_integ<> = seq_num + args, opaque checksum<> } (§5.3.2.2).
  const integ = (body: Uint8Array, seed: number) => new Xdr().opaque(new Xdr().u32(krb5i.seq).raw(body).bytes()).opaque(micToken(seed)).bytes();
  msgs.push([call(krb5i.xid, 100003, 3, 1, gssCred(0, krb5i.seq, 2, GSS_HANDLE), mic(6), integ(fh, 7)), acceptedReply(krb5i.xid, mic(8), integ(getattrOk(), 9))]);
  // Privacy: rpc_gss_priv_data { opaque databody_priv<> } (§5.3.2.3): the wrap token, unreadable.
  msgs.push([
    call(krb5p.xid, 100003, 3, 1, gssCred(0, krb5p.seq, 3, GSS_HANDLE), mic(10), new Xdr().opaque(filled(92, 11)).bytes()),
    acceptedReply(krb5p.xid, mic(12), new Xdr().opaque(filled(148, 13)).bytes()),
  ]);
  // Context destruction: NULL procedure, gss_proc DESTROY, with the handle (§5.4).
  msgs.push([call(destroy.xid, 100003, 3, 0, gssCred(3, destroy.seq, 1, GSS_HANDLE), mic(14), new Uint8Array(0)), acceptedReply(destroy.xid, mic(15), new Uint8Array(0))]);
  // The context is gone: the server rejects the call with AUTH_ERROR RPCSEC_GSS_CTXPROBLEM (RFC 2203 §5.3.3.3),
  // what a client sees when its Kerberos context expired or the server restarted.
  const integStale = new Xdr().opaque(new Xdr().u32(stale.seq).raw(fh).bytes()).opaque(micToken(16)).bytes();
  msgs.push([
    call(stale.xid, 100003, 3, 1, gssCred(0, stale.seq, 2, GSS_HANDLE), mic(17), integStale),
    new Xdr().u32(stale.xid).u32(1).u32(1).u32(1).u32(14).bytes(),
  ]);
  const out: Frame[] = [];
  let t = 0;
  for (const [c, r] of msgs) {
    out.push(udpFrame(client, server, 801, 2049, c, 1_790_000_000, (t += 1000)));
    out.push(udpFrame(server, client, 2049, 801, r, 1_790_000_000, (t += 250)));
  }
  return writePcap(out, 1, false, false);
}
