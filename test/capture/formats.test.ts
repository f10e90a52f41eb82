/**
 * Container and link-layer variants, made here from a real capture by re-encoding its frames: pcap in both
 * byte orders with micro- and nanosecond magic, pcapng with two interfaces of different if_tsresol, and the
 * link types Ethernet+802.1Q, Linux SLL, SLL2, raw IPv4, BSD NULL/LOOP, plus IPv4 rewritten as IPv6.
 * Every variant must decode to the same RPCs (times, texts, latencies) as the original.
 */
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import type { RpcData } from '../../shared/rpc/types';
import { loadCapture } from './load';
import { frames, writePcap, type Frame } from './pcapfile';

/** pcapng, big-endian section, frames alternating between an us interface and a ns interface. */
function writePcapngTwoIfaces(fs: readonly Frame[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + body.length;
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type);
    dv.setUint32(4, len);
    b.set(body, 8);
    dv.setUint32(len - 4, len);
    parts.push(b);
  };
  const shb = new Uint8Array(16);
  new DataView(shb.buffer).setUint32(0, 0x1a2b3c4d);
  new DataView(shb.buffer).setUint16(4, 1);
  new DataView(shb.buffer).setInt32(8, -1);
  new DataView(shb.buffer).setInt32(12, -1);
  block(0x0a0d0d0a, shb);
  for (const res of [6, 9]) {
    const idb = new Uint8Array(16);
    const dv = new DataView(idb.buffer);
    dv.setUint16(0, 1);
    dv.setUint32(4, 262144);
    dv.setUint16(8, 9); // if_tsresol
    dv.setUint16(10, 1);
    idb[12] = res;
    block(1, idb);
  }
  fs.forEach((f, i) => {
    const iface = i % 2;
    const pad = (f.data.length + 3) & ~3;
    const body = new Uint8Array(20 + pad);
    const dv = new DataView(body.buffer);
    const units = iface === 0 ? BigInt(f.sec) * 1_000_000n + BigInt(f.usec) : (BigInt(f.sec) * 1_000_000n + BigInt(f.usec)) * 1000n;
    dv.setUint32(0, iface);
    dv.setUint32(4, Number(units >> 32n));
    dv.setUint32(8, Number(units & 0xffffffffn));
    dv.setUint32(12, f.data.length);
    dv.setUint32(16, f.data.length);
    body.set(f.data, 20);
    block(6, body);
  });
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

const ethType = (d: Uint8Array): number => (d[12] << 8) | d[13];
const relink = (fs: readonly Frame[], f: (d: Uint8Array) => Uint8Array): Frame[] => fs.map((x) => ({ ...x, data: f(x.data) }));

const LINKS: Record<string, { linkType: number; map: (d: Uint8Array) => Uint8Array }> = {
  vlan: { linkType: 1, map: (d) => { const o = new Uint8Array(d.length + 4); o.set(d.subarray(0, 12)); o.set([0x81, 0x00, 0x00, 0x2a], 12); o.set(d.subarray(12), 16); return o; } },
  sll: { linkType: 113, map: (d) => { const o = new Uint8Array(d.length + 2); o.set([0, 0, 0, 1, 0, 6], 0); o.set(d.subarray(6, 12), 6); o.set(d.subarray(12), 14); return o; } },
  sll2: { linkType: 276, map: (d) => { const o = new Uint8Array(d.length + 6); o.set(d.subarray(12, 14), 0); o.set([0, 0, 0, 0, 0, 2, 0, 1, 0, 6], 2); o.set(d.subarray(6, 12), 12); o.set(d.subarray(14), 20); return o; } },
  raw: { linkType: 101, map: (d) => d.slice(14) },
  null: { linkType: 0, map: (d) => { const o = new Uint8Array(d.length - 10); o.set([ethType(d) === 0x86dd ? 24 : 2, 0, 0, 0], 0); o.set(d.subarray(14), 4); return o; } },
  loop: { linkType: 108, map: (d) => { const o = new Uint8Array(d.length - 10); o.set([0, 0, 0, 2], 0); o.set(d.subarray(14), 4); return o; } },
};

/** Replace the IPv4 header by an IPv6 one (2001:db8::a.b.c.d), keeping TCP/UDP as is (checksums are not checked). */
function toIpv6(d: Uint8Array): Uint8Array {
  if (ethType(d) !== 0x0800) return d;
  const ihl = (d[14] & 15) * 4;
  const total = (d[16] << 8) | d[17];
  const payload = d.subarray(14 + ihl, 14 + total);
  const o = new Uint8Array(14 + 40 + payload.length);
  o.set(d.subarray(0, 12));
  o[12] = 0x86;
  o[13] = 0xdd;
  o[14] = 0x60;
  o[18] = payload.length >> 8;
  o[19] = payload.length & 255;
  o[20] = d[14 + 9];
  o[21] = 64;
  for (const [src, dst] of [[26, 22], [30, 38]]) {
    o.set([0x20, 0x01, 0x0d, 0xb8], dst);
    o.set(d.subarray(src, src + 4), dst + 12);
  }
  o.set(payload, 54);
  return o;
}

const summary = (bytes: Uint8Array): string[] =>
  decodeCaptureBytes(bytes).events.filter((e) => e.kind === 'rpc').map((e) => {
    const d = e.data as unknown as RpcData;
    return `${e.ts} ${e.durationNs} ${e.text} ${d.callFrame}`;
  });

describe('capture formats and link layers decode the same', () => {
  for (const name of ['lab__v4-lock-conflict.pcap', 'lab__nlm-conflict.pcap']) {
    const fs = frames(loadCapture(name));
    const ref = summary(writePcap(fs, 1, false, false));

    it(`${name}: reference is not empty`, () => {
      expect(ref.length).toBeGreaterThan(40);
      expect(ref).toEqual(summary(loadCapture(name)));
    });
    for (const be of [false, true]) {
      for (const nano of [false, true]) {
        it(`${name}: pcap ${be ? 'big' : 'little'}-endian ${nano ? 'ns' : 'us'}`, () => {
          expect(summary(writePcap(fs, 1, be, nano))).toEqual(ref);
        });
      }
    }
    it(`${name}: pcapng with two interfaces (if_tsresol 6 and 9), big-endian section`, () => {
      expect(summary(writePcapngTwoIfaces(fs))).toEqual(ref);
    });
    for (const [link, { linkType, map }] of Object.entries(LINKS)) {
      it(`${name}: link type ${link} (${linkType})`, () => {
        expect(summary(writePcap(relink(fs, map), linkType, false, false))).toEqual(ref);
      });
    }
    it(`${name}: IPv6`, () => {
      const v6 = decodeCaptureBytes(writePcap(relink(fs, toIpv6), 1, false, false)).events.filter((e) => e.kind === 'rpc');
      expect(v6.map((e) => `${e.ts} ${e.durationNs} ${e.text}`)).toEqual(ref.map((l) => l.replace(/ \d+$/, '')));
      const d = v6[0].data as unknown as RpcData;
      expect(d.client).toMatch(/^\[2001:db8::[0-9a-f:]+\]:\d+$/);
    });
  }
});
