/**
 * Bad input never throws or hangs and gives a partial result that says so: fuzz fixtures from tcpdump,
 * truncated copies of every capture (sliced here), byte-flipped captures, garbage. Also: any chunking of the
 * input gives exactly the same events (the decoder is streaming).
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../fuzz/mutate';
import { createCaptureDecoder, decodeCaptureBytes } from '../../shared/capture/decoder';
import type { ParsedEvent } from '../../shared/model/event';
import type { RpcData } from '../../shared/rpc/types';
import { captureNames, loadCapture } from './load';

const stable = (events: readonly ParsedEvent[]): string =>
  JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

function decodeChunked(bytes: Uint8Array, size: number): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const dec = createCaptureDecoder({}, (e) => events.push(e));
  for (let i = 0; i < bytes.length; i += size) dec.push(bytes.subarray(i, i + size));
  dec.end();
  return events;
}

const prng = mulberry32; // the fuzzers' seeded PRNG

describe('streaming: chunking does not change the result', () => {
  for (const name of captureNames()) {
    it(name, () => {
      const bytes = loadCapture(name);
      const whole = stable(decodeCaptureBytes(bytes).events);
      const sizes = bytes.length < 64 * 1024 ? [1, 7, 1000] : [13, 4096, 65536];
      for (const s of sizes) expect(stable(decodeChunked(bytes, s)), `chunk size ${s}`).toBe(whole);
    });
  }
});

describe('truncated captures give a partial result marked as such', () => {
  for (const name of captureNames()) {
    it(name, () => {
      const bytes = loadCapture(name);
      const full = decodeCaptureBytes(bytes).summary;
      for (const frac of [0.05, 0.37, 0.5, 0.83, -1]) {
        const cut = frac < 0 ? bytes.length - 1 : Math.max(1, Math.floor(bytes.length * frac));
        const { events, summary } = decodeCaptureBytes(bytes.slice(0, cut));
        expect(summary.rpcCalls).toBeLessThanOrEqual(full.rpcCalls);
        if (frac < 0) {
          // One byte short always cuts the last record/block.
          expect(summary.partial).toBe(true);
          expect(summary.warnings.join(' ')).toMatch(/truncated/);
          const notes = events.filter((e) => e.kind === 'packet' && (e.data as { reason?: string }).reason === 'truncated-file');
          expect(notes.length).toBe(1);
          expect(notes[0].text).toMatch(/partial/);
        }
      }
    });
  }
});

describe('malformed and fuzzed input', () => {
  it('tcpdump nfs-cannot-pad-32-bit: the call is kept and marked truncated', () => {
    const { events, summary } = decodeCaptureBytes(loadCapture('tcpdump__nfs-cannot-pad-32-bit.pcap'));
    const rpcs = events.filter((e) => e.kind === 'rpc');
    expect(rpcs.length).toBe(1);
    const d = rpcs[0].data as unknown as RpcData;
    expect(d.procedure).toBe('LOOKUP');
    expect(d.version).toBe(2);
    expect(d.truncated).toBe(true);
    expect(d.noReply).toBe(true);
    expect(summary.rpcCalls).toBe(1);
  });

  it('tcpdump nfs_large_credentials_length: an absurd credential length is not taken for RPC', () => {
    const { events, summary } = decodeCaptureBytes(loadCapture('tcpdump__nfs_large_credentials_length.pcap'));
    expect(events.filter((e) => e.kind === 'rpc')).toEqual([]);
    expect(summary.frames).toBe(1);
  });

  it('tcpdump nfs-write-verf-cookie: RPC found on a non-NFS port by content', () => {
    const { events } = decodeCaptureBytes(loadCapture('tcpdump__nfs-write-verf-cookie.pcapng'));
    const d = events.filter((e) => e.kind === 'rpc').map((e) => e.data as unknown as RpcData);
    expect(d.map((x) => `${x.procedure} ${x.status}`)).toEqual(['WRITE NFS3_OK']);
  });

  it('garbage, empty and non-capture input', () => {
    expect(decodeCaptureBytes(new Uint8Array(0)).summary.warnings.join()).toMatch(/not a pcap/);
    const text = new TextEncoder().encode('this is a log file, not a capture\n'.repeat(100));
    const r = decodeCaptureBytes(text);
    expect(r.summary.partial).toBe(true);
    expect(r.summary.frames).toBe(0);
    const gz = decodeCaptureBytes(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    expect(gz.summary.warnings.join()).toMatch(/gzip/);
  });

  it('a corrupt record length stops reading with a warning, keeping what came before', () => {
    const bytes = loadCapture('lab__nlm-conflict.pcap').slice();
    const full = decodeCaptureBytes(bytes).summary;
    // Find the 50th record header and give it an impossible captured length.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 24;
    for (let i = 0; i < 50; i++) off += 16 + dv.getUint32(off + 8, true);
    dv.setUint32(off + 8, 0x7fffffff, true);
    const { summary } = decodeCaptureBytes(bytes);
    expect(summary.frames).toBe(50);
    expect(summary.rpcCalls).toBeGreaterThan(0);
    expect(summary.rpcCalls).toBeLessThan(full.rpcCalls);
    expect(summary.warnings.join()).toMatch(/corrupt pcap record/);
  });

  it('byte-flipped captures never throw', () => {
    const rnd = prng(20260521);
    for (const name of ['lab__v4-lock-conflict.pcap', 'linux-nfs-ml__delegation_claim.pcap', 'suricata-verify__nfs3-01.pcap', 'lab__nlm-conflict.pcap']) {
      const base = loadCapture(name);
      for (let v = 0; v < 40; v++) {
        const b = base.slice();
        const flips = 1 + Math.floor(rnd() * 64);
        for (let i = 0; i < flips; i++) b[24 + Math.floor(rnd() * (b.length - 24))] = Math.floor(rnd() * 256);
        const t = performance.now();
        const { summary } = decodeCaptureBytes(b);
        expect(performance.now() - t).toBeLessThan(2000);
        // A flipped record header may stop the reading: then it must say so.
        if (summary.frames === 0) expect(summary.warnings.length).toBeGreaterThan(0);
        expect(summary.rpcCalls).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('random bytes behind a valid pcap header never throw', () => {
    const rnd = prng(7);
    for (let v = 0; v < 30; v++) {
      const b = new Uint8Array(4096);
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      const hdr = new DataView(b.buffer);
      hdr.setUint32(0, 0xa1b2c3d4, false);
      hdr.setUint32(20, [1, 101, 113, 276, 0][v % 5], false);
      // A run of well-formed record headers with random payloads.
      let off = 24;
      while (off + 16 + 200 < b.length) {
        hdr.setUint32(off + 8, 200, false);
        hdr.setUint32(off + 12, 200, false);
        off += 216;
      }
      expect(() => decodeCaptureBytes(b)).not.toThrow();
    }
  });
});
