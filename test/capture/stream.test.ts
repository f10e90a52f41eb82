/** decodeCaptureStream (pure TS, DecompressionStream for gzip) and the `casefile parse` JSON line. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import { rpcJsonLine } from '../../shared/capture/jsonl';
import { decodeCaptureStream } from '../../shared/capture/stream';
import type { ParsedEvent } from '../../shared/model/event';
import { PCAP_DIR, loadCapture } from './load';

async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

describe('decodeCaptureStream', () => {
  it('inflates gzip by content and equals the in-memory decode', async () => {
    const raw = new Uint8Array(readFileSync(join(PCAP_DIR, 'zeek__portmapper-many-unanswered-calls.pcapng.gz')));
    const events: ParsedEvent[] = [];
    const summary = await decodeCaptureStream(chunks(raw, 1), (e) => events.push(e));
    expect(summary.gzip).toBe(true);
    const ref = decodeCaptureBytes(loadCapture('zeek__portmapper-many-unanswered-calls.pcapng.gz'));
    expect(events.map((e) => e.text)).toEqual(ref.events.map((e) => e.text));
  });

  it('a cut gzip stream gives a partial result', async () => {
    const raw = new Uint8Array(readFileSync(join(PCAP_DIR, 'zeek__portmapper-many-unanswered-calls.pcapng.gz')));
    const events: ParsedEvent[] = [];
    const summary = await decodeCaptureStream(chunks(raw.subarray(0, raw.length >> 1), 1000), (e) => events.push(e));
    expect(summary.partial).toBe(true);
    expect(summary.rpcCalls).toBeGreaterThan(0);
    expect(summary.rpcCalls).toBeLessThan(5000);
  });
});

describe('rpcJsonLine', () => {
  it('gives the casefile parse fields for an NFSv4 LOCK denied', () => {
    const { events } = decodeCaptureBytes(loadCapture('lab__v4-lock-conflict.pcap'));
    const lines = events.map(rpcJsonLine).filter((l) => l !== undefined);
    const denied = lines.find((l) => l.status === 'NFS4ERR_DENIED');
    expect(denied).toBeDefined();
    expect(denied).toMatchObject({ kind: 'rpc', program: 'nfs', version: 4, procedure: 'COMPOUND', ops: ['PUTFH', 'LOCK'], transport: 'tcp' });
    expect(denied?.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(denied?.xid).toMatch(/^0x[0-9a-f]{8}$/);
    expect(denied?.client).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/);
    expect(denied?.server).toMatch(/:2049$/);
    expect(typeof denied?.latency_ms).toBe('number');
  });
});
