/** Test helpers: frames of a real capture, and a pcap writer to build variants of it. */
import { ContainerReader } from '../../shared/capture/container/reader';

export interface Frame {
  sec: number;
  usec: number;
  data: Uint8Array;
}

export function frames(bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  const r = new ContainerReader((f) => out.push({ sec: f.tsSec, usec: Math.floor(f.tsNsec / 1000), data: f.data.slice() }));
  r.push(bytes);
  r.end();
  return out;
}

export function writePcap(fs: readonly Frame[], linkType: number, be: boolean, nano: boolean): Uint8Array {
  const size = 24 + fs.reduce((a, f) => a + 16 + f.data.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const le = !be;
  dv.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, 262144, le);
  dv.setUint32(20, linkType, le);
  let p = 24;
  for (const f of fs) {
    dv.setUint32(p, f.sec, le);
    dv.setUint32(p + 4, nano ? f.usec * 1000 : f.usec, le);
    dv.setUint32(p + 8, f.data.length, le);
    dv.setUint32(p + 12, f.data.length, le);
    out.set(f.data, p + 16);
    p += 16 + f.data.length;
  }
  return out;
}


/** Ethernet/IPv4/TCP view of a frame: payload offsets and the fields the TCP tests edit. */
export function tcpInfo(d: Uint8Array): { ipOff: number; tcpOff: number; dataOff: number; end: number; seq: number; sport: number } | undefined {
  if (d.length < 54 || d[12] !== 0x08 || d[13] !== 0x00 || d[23] !== 6) return undefined;
  const ipOff = 14;
  const ihl = (d[ipOff] & 15) * 4;
  const total = (d[ipOff + 2] << 8) | d[ipOff + 3];
  const tcpOff = ipOff + ihl;
  const dataOff = tcpOff + (d[tcpOff + 12] >> 4) * 4;
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return { ipOff, tcpOff, dataOff, end: ipOff + total, seq: dv.getUint32(tcpOff + 4), sport: dv.getUint16(tcpOff) };
}

/** Split a TCP data frame into two frames at payload byte `at` (sequence numbers and IP lengths adjusted). */
export function splitTcp(f: Frame, at: number): [Frame, Frame] {
  const t = tcpInfo(f.data);
  if (t === undefined) throw new Error('not TCP');
  const head = f.data.subarray(0, t.dataOff);
  const pay = f.data.subarray(t.dataOff, t.end);
  const make = (part: Uint8Array, seq: number): Frame => {
    const d = new Uint8Array(head.length + part.length);
    d.set(head);
    d.set(part, head.length);
    const dv = new DataView(d.buffer);
    dv.setUint16(t.ipOff + 2, t.dataOff - t.ipOff + part.length);
    dv.setUint32(t.tcpOff + 4, seq >>> 0);
    return { sec: f.sec, usec: f.usec, data: d };
  };
  return [make(pay.subarray(0, at), t.seq), make(pay.subarray(at), t.seq + at)];
}
