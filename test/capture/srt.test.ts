/**
 * Service response times equal `tshark -z rpc,srt` (golden tables from regen.sh and from the lab's decode/),
 * both as `casefile stats` computes them (streamed: SrtAccumulator fed by the decoder, no events) and from
 * stored events (srtStats), which must give the same table.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaptureDecoder, decodeCaptureBytes } from '../../shared/capture/decoder';
import { SrtAccumulator, formatSrt, srtStats, type SrtStats } from '../../shared/capture/srt';
import { TSHARK_DIR, loadCapture } from './load';
import { frames, writePcap, type Frame } from './pcapfile';

const PROGRAM: Readonly<Record<string, number>> = { nfs: 100003, nlm: 100021, mount: 100005, portmap: 100000, stat: 100024 };

interface TsharkSrt {
  key: string; // program/version/index
  name: string;
  calls: number;
  min: string;
  max: string;
  sum: number;
}

function parseSrt(text: string): TsharkSrt[] {
  const out: TsharkSrt[] = [];
  let prog = 0;
  let vers = 0;
  for (const l of text.split('\n')) {
    const f = /^Filter: (\w+)\.procedure_v(\d+)/.exec(l);
    if (f) {
      prog = PROGRAM[f[1]] ?? -1;
      vers = Number(f[2]);
      continue;
    }
    const m = /^\s+(\d+)\s+(\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/.exec(l);
    if (m) out.push({ key: `${prog}/${vers}/${m[1]}`, name: m[2], calls: Number(m[3]), min: m[4], max: m[5], sum: Number(m[7]) });
  }
  return out;
}

// Captures whose reference reading is a known tshark defect (see tshark-parity.test.ts) use tshark's second reading.
const SECOND_READING = /\.(decode-as|port-based)\.srt\.txt$/;
const secondRead = new Set(readdirSync(TSHARK_DIR).filter((f) => SECOND_READING.test(f)).map((f) => f.replace(SECOND_READING, '')));
const cases: { capture: string; srt: string }[] = [
  ...readdirSync(TSHARK_DIR)
    .filter((f) => f.endsWith('.srt.txt') && (SECOND_READING.test(f) || !secondRead.has(f.replace(/\.srt\.txt$/, ''))))
    .map((f) => ({ capture: f.replace(/(\.(decode-as|port-based))?\.srt\.txt$/, ''), srt: join(TSHARK_DIR, f) })),
  ...readdirSync(join(TSHARK_DIR, 'lab-decode')).filter((f) => f.endsWith('.srt.txt')).map((f) => ({ capture: `lab__${f.replace(/\.srt\.txt$/, '')}.pcap`, srt: join(TSHARK_DIR, 'lab-decode', f) })),
];

/** The table `casefile stats` prints: accumulated while the capture streams through, no 'rpc' event built. */
function streamed(bytes: Uint8Array): { stats: SrtStats; rpcEvents: number } {
  const acc = new SrtAccumulator();
  let rpcEvents = 0;
  const dec = createCaptureDecoder({ rpcEvents: false, answered: acc.answered }, (e) => {
    if (e.kind === 'rpc') rpcEvents++;
  });
  // Odd chunk sizes: the result must not depend on how the bytes arrive.
  for (let i = 0; i < bytes.length; i += 4093) dec.push(bytes.subarray(i, i + 4093));
  dec.end();
  return { stats: acc.stats(), rpcEvents };
}

describe('SRT equals tshark -z rpc,srt', () => {
  for (const c of cases) {
    const theirs = parseSrt(readFileSync(c.srt, 'utf8'));
    if (theirs.length === 0) continue;
    it(`${c.capture} (${c.srt.includes('lab-decode') ? 'lab decode/' : 'regen'})`, () => {
      const bytes = loadCapture(c.capture);
      const { stats, rpcEvents } = streamed(bytes);
      expect(rpcEvents).toBe(0);
      expect(srtStats(decodeCaptureBytes(bytes).events)).toEqual(stats);
      const ours = new Map(stats.procedures.map((r) => [`${r.programNumber}/${r.version}/${r.index}`, r]));
      for (const t of theirs) {
        const o = ours.get(t.key);
        expect(o, t.key).toBeDefined();
        if (!o) continue;
        expect(o.calls, `${t.key} calls`).toBe(t.calls);
        expect((o.minMs / 1000).toFixed(6), `${t.key} min`).toBe(t.min);
        expect((o.maxMs / 1000).toFixed(6), `${t.key} max`).toBe(t.max);
        expect(Math.abs(o.sumMs / 1000 - t.sum), `${t.key} sum`).toBeLessThan(1e-6 * (t.calls + 1));
        expect(o.name).toBe(t.name);
      }
      // Every program/version tshark tabulated has no extra procedures on our side.
      const tabulated = new Set(theirs.map((t) => t.key.split('/').slice(0, 2).join('/')));
      const extra = stats.procedures.filter((r) => tabulated.has(`${r.programNumber}/${r.version}`) && !theirs.some((t) => t.key === `${r.programNumber}/${r.version}/${r.index}`));
      expect(extra).toEqual([]);
    });
  }

  it('formatSrt prints tshark-shaped rows and the NFSv4 operation table', () => {
    const stats = srtStats(decodeCaptureBytes(loadCapture('lab__basic-v3-v4.pcap')).events);
    const text = formatSrt(stats);
    const tshark = readFileSync(join(TSHARK_DIR, 'lab-decode', 'basic-v3-v4.srt.txt'), 'utf8');
    // The GETATTR row is byte-identical to tshark's.
    const row = tshark.split('\n').find((l) => /^\s+1\s+GETATTR\s/.test(l));
    expect(row).toBeDefined();
    expect(text.split('\n')).toContain(row);
    expect(text).toMatch(/NFSv4 operation SRT/);
    expect(stats.operations.map((r) => r.name)).toContain('OPEN');
  });
});

describe('SRT of a call retransmitted after its reply', () => {
  /** The first unfragmented UDP call and its reply in a real capture (Ethernet/IPv4/UDP), by XID. */
  function firstUdpPair(bytes: Uint8Array): [Frame, Frame] {
    const fs = frames(bytes);
    const udp = (f: Frame): { xid: number; type: number } | undefined => {
      const d = f.data;
      if (d.length < 14 + 20 + 8 + 8 || d[12] !== 0x08 || d[13] !== 0x00 || d[23] !== 17) return undefined;
      const o = 14 + (d[14] & 15) * 4 + 8;
      const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
      if ((dv.getUint16(20) & 0x3fff) !== 0) return undefined; // an IP fragment: not a whole datagram
      return { xid: dv.getUint32(o), type: dv.getUint32(o + 4) };
    };
    for (let i = 0; i < fs.length; i++) {
      const c = udp(fs[i]);
      if (c?.type !== 0) continue;
      const r = fs.slice(i + 1).find((f) => { const u = udp(f); return u?.type === 1 && u.xid === c.xid; });
      if (r) return [fs[i], r];
    }
    throw new Error('no UDP call/reply pair');
  }

  it('times the second reply from the first transmission (as tshark does), streamed and from events alike', () => {
    const [call, reply] = firstUdpPair(loadCapture('zeek__rpc-portmap-sadmind.pcap'));
    const at = (f: Frame, sec: number, usec: number): Frame => ({ sec, usec, data: f.data });
    // call at 0, reply at 1 ms; the client sends the same XID again 2 s later and gets a second reply 3 ms after that.
    const pcap = writePcap([at(call, 1000, 0), at(reply, 1000, 1000), at(call, 1002, 0), at(reply, 1002, 3000)], 1, false, false);
    const { stats } = streamed(pcap);
    expect(stats.procedures).toHaveLength(1);
    const row = stats.procedures[0];
    expect(row.calls).toBe(2);
    expect(row.minMs).toBe(1);
    expect(row.maxMs).toBe(2003);
    const { events } = decodeCaptureBytes(pcap);
    expect(events.filter((e) => e.kind === 'rpc').map((e) => (e.data as { retransmitOf?: number }).retransmitOf)).toEqual([undefined, 1]);
    expect(srtStats(events)).toEqual(stats);
  });
});
