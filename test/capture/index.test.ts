/** Frame index (RpcData.frameOffset -> readPacketAt) and export of selected frames as pcapng. */
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import { readPacketAt, writePcapng, type CapturedFrame } from '../../shared/capture/index';
import type { RpcData } from '../../shared/rpc/types';
import { loadCapture } from './load';

const rpcData = (name: string): { bytes: Uint8Array; rpcs: { ts: bigint; d: RpcData }[] } => {
  const bytes = loadCapture(name);
  const rpcs = decodeCaptureBytes(bytes)
    .events.filter((e) => e.kind === 'rpc' && e.ts !== undefined)
    .map((e) => ({ ts: e.ts as bigint, d: e.data as unknown as RpcData }));
  return { bytes, rpcs };
};

describe('readPacketAt', () => {
  // pcap (us), pcapng, pcapng with SLL, raw IP, gzip'd pcapng
  for (const name of ['lab__basic-v3-v4.pcap', 'linux-nfs-ml__delegation_claim.pcap', 'linux-nfs-ml__netpart-reconnect.pcap',
    'linux-nfs-ml__random_io_errors_nfs_error.pcap', 'zeek__portmapper-many-unanswered-calls.pcapng.gz']) {
    it(`every call frame of ${name} is found at its offset with the call's timestamp`, () => {
      const { bytes, rpcs } = rpcData(name);
      expect(rpcs.length).toBeGreaterThan(0);
      for (const { ts, d } of rpcs) {
        const f = readPacketAt(bytes, d.frameOffset as number);
        expect(f, `frame ${d.callFrame}`).toBeDefined();
        expect(f?.ts).toBe(ts);
        if (d.replyFrameOffset !== undefined) expect(readPacketAt(bytes, d.replyFrameOffset)?.ts.toString()).toBe(d.replyTs);
      }
    });
  }

  it('an offset that is not a frame start gives undefined', () => {
    const bytes = loadCapture('linux-nfs-ml__delegation_claim.pcap');
    expect(readPacketAt(bytes, 3)).toBeUndefined();
    expect(readPacketAt(bytes, bytes.length + 10)).toBeUndefined();
  });
});

describe('writePcapng', () => {
  it('exports the frames of selected RPCs and decodes back to the same RPCs', () => {
    const name = 'lab__v4-lock-conflict.pcap';
    const { bytes, rpcs } = rpcData(name);
    const chosen = rpcs.filter(({ d }) => d.ops?.includes('LOCK'));
    expect(chosen.length).toBeGreaterThan(3);
    const frames: CapturedFrame[] = [];
    for (const { d } of chosen) {
      for (const off of [d.frameOffset, d.replyFrameOffset]) {
        const f = off === undefined ? undefined : readPacketAt(bytes, off);
        if (f) frames.push(f);
      }
    }
    const out = writePcapng(frames);
    expect(new DataView(out.buffer).getUint32(0, false)).toBe(0x0a0d0d0a);
    const back = decodeCaptureBytes(out);
    expect(back.summary.format).toBe('pcapng');
    expect(back.summary.frames).toBe(frames.length);
    const key = (d: RpcData): string => `${d.xid}/${d.procedure}/${d.ops?.join(',')}/${d.status}/${d.latencyMs}`;
    // TCP reassembly in the slice starts mid-stream: every LOCK compound is still found with its reply.
    expect(back.events.filter((e) => e.kind === 'rpc').map((e) => key(e.data as unknown as RpcData)).sort()).toEqual(chosen.map(({ d }) => key(d)).sort());
  });
});
