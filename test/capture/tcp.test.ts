/**
 * TCP reassembly on a real capture edited frame by frame: re-segmentation (records spanning segments, several
 * records per segment), reordering, retransmission, and a lost segment (gap note, the rest still decoded).
 */
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import type { RpcData } from '../../shared/rpc/types';
import { loadCapture } from './load';
import { frames, splitTcp, tcpInfo, writePcap, type Frame } from './pcapfile';

const NAME = 'lab__v4-lock-conflict.pcap';
const base = frames(loadCapture(NAME));
const decode = (fs: readonly Frame[]) => decodeCaptureBytes(writePcap(fs, 1, false, false));
const rpcKey = (d: RpcData): string => `${d.xid}/${d.procedure}/${(d.ops ?? []).join(',')}/${d.status}`;
const rpcs = (fs: readonly Frame[]): string[] =>
  decode(fs).events.filter((e) => e.kind === 'rpc').map((e) => rpcKey(e.data as unknown as RpcData)).sort();
const reference = rpcs(base);
const dataFrames = base.map((f, i) => ({ i, t: tcpInfo(f.data) })).filter((x) => x.t !== undefined && x.t.end - x.t.dataOff > 40);

describe('TCP reassembly', () => {
  it('the reference has RPCs over TCP', () => {
    expect(reference.length).toBeGreaterThan(50);
    expect(dataFrames.length).toBeGreaterThan(100);
  });

  it('every data segment split in two (records span segments, record marks split) gives the same RPCs', () => {
    for (const at of [1, 3, 4, 5, 17]) {
      const fs = base.flatMap((f) => {
        const t = tcpInfo(f.data);
        return t !== undefined && t.end - t.dataOff > at ? splitTcp(f, at) : [f];
      });
      expect(rpcs(fs), `split at ${at}`).toEqual(reference);
    }
  });

  it('two consecutive segments of one direction delivered in reverse order give the same RPCs', () => {
    // Split each data frame, then swap its two halves: the second half arrives first.
    const fs = base.flatMap((f) => {
      const t = tcpInfo(f.data);
      if (t === undefined || t.end - t.dataOff < 20) return [f];
      const [a, b] = splitTcp(f, 10);
      return [b, a];
    });
    const r = decode(fs);
    expect(r.events.filter((e) => e.kind === 'rpc').map((e) => rpcKey(e.data as unknown as RpcData)).sort()).toEqual(reference);
    expect(r.summary.tcpGaps).toBe(0);
  });

  it('retransmitted segments are not decoded twice', () => {
    const fs = base.flatMap((f) => (tcpInfo(f.data) !== undefined && (tcpInfo(f.data)?.end ?? 0) - (tcpInfo(f.data)?.dataOff ?? 0) > 0 ? [f, f] : [f]));
    const r = decode(fs);
    expect(r.events.filter((e) => e.kind === 'rpc').map((e) => rpcKey(e.data as unknown as RpcData)).sort()).toEqual(reference);
    expect(r.summary.tcpRetransmissions).toBeGreaterThan(100);
  });

  it('several records in one segment: consecutive calls of a connection coalesced into one segment', () => {
    // Merge each client data segment with the next client segment of the same connection (placed at the first
    // one's position: the second call simply leaves earlier, before the first reply).
    const out: (Frame | undefined)[] = [...base];
    let merged = 0;
    const lastOpen = new Map<number, number>();
    for (let i = 0; i < out.length; i++) {
      const f = out[i];
      const t = f ? tcpInfo(f.data) : undefined;
      if (!f || !t || t.end <= t.dataOff || t.sport === 2049) continue;
      const j = lastOpen.get(t.sport);
      const a = j === undefined ? undefined : out[j];
      const ta = a ? tcpInfo(a.data) : undefined;
      if (j === undefined || !a || !ta || ((ta.seq + ta.end - ta.dataOff) >>> 0) !== t.seq) {
        lastOpen.set(t.sport, i);
        continue;
      }
      const pay = new Uint8Array(ta.end - ta.dataOff + t.end - t.dataOff);
      pay.set(a.data.subarray(ta.dataOff, ta.end));
      pay.set(f.data.subarray(t.dataOff, t.end), ta.end - ta.dataOff);
      const d = new Uint8Array(ta.dataOff + pay.length);
      d.set(a.data.subarray(0, ta.dataOff));
      d.set(pay, ta.dataOff);
      new DataView(d.buffer).setUint16(ta.ipOff + 2, ta.dataOff - ta.ipOff + pay.length);
      out[j] = { sec: a.sec, usec: a.usec, data: d };
      out[i] = undefined;
      lastOpen.delete(t.sport);
      merged++;
    }
    expect(merged).toBeGreaterThan(10);
    expect(rpcs(out.filter((f): f is Frame => f !== undefined))).toEqual(reference);
  });

  it('a lost segment is reported as a gap, its RPC is missing, the others are decoded', () => {
    // Drop the call of the NFS4ERR_DENIED LOCK: its reply becomes a reply without a call.
    const ev = decode(base).events.filter((e) => e.kind === 'rpc');
    const denied = ev.map((e) => e.data as unknown as RpcData).find((d) => d.status === 'NFS4ERR_DENIED');
    expect(denied).toBeDefined();
    const callIndex = (denied?.callFrame ?? 0) - 1;
    const fs = base.filter((_f, i) => i !== callIndex);
    const r = decode(fs);
    const notes = r.events.filter((e) => e.kind === 'packet' && (e.data as { reason?: string }).reason === 'tcp-gap');
    expect(notes.length).toBe(1);
    expect(notes[0].level).toBe('warn');
    expect(notes[0].text).toMatch(/TCP gap: \d+ bytes not captured/);
    expect(r.summary.tcpGaps).toBe(1);
    expect(r.summary.partial).toBe(true);
    const got = r.events.filter((e) => e.kind === 'rpc').map((e) => e.data as unknown as RpcData);
    const orphans = got.filter((d) => d.orphanReply);
    expect(orphans.map((d) => d.xid)).toEqual([denied?.xid]);
    expect(got.filter((d) => !d.orphanReply).map(rpcKey).sort()).toEqual(reference.filter((k) => k !== rpcKey(denied as RpcData)));
  });
});
