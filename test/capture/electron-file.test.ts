/** Node side: streaming file reader (gzip by content), worker_thread ingest. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCaptureFile } from '../../electron/capture/file';
import { decodeCaptureInWorker } from '../../electron/capture/ingest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import type { ParsedEvent } from '../../shared/model/event';
import { PCAP_DIR, loadCapture } from './load';

const tmp = mkdtempSync(join(tmpdir(), 'casefile-capture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const key = (e: ParsedEvent): string => `${e.kind}/${e.line}/${e.text}`;

describe('decodeCaptureFile', () => {
  it('gunzips by content (a .gz name is not needed) and equals the in-memory decode', async () => {
    const gz = readFileSync(join(PCAP_DIR, 'zeek__portmapper-many-unanswered-calls.pcapng.gz'));
    const renamed = join(tmp, 'capture.bin');
    writeFileSync(renamed, gz);
    const events: ParsedEvent[] = [];
    const summary = await decodeCaptureFile(renamed, (e) => events.push(e));
    expect(summary.gzip).toBe(true);
    expect(summary.format).toBe('pcapng');
    const ref = decodeCaptureBytes(loadCapture('zeek__portmapper-many-unanswered-calls.pcapng.gz'));
    expect(events.map(key)).toEqual(ref.events.map(key));
    expect(summary.rpcCalls).toBe(5000);
  });

  it('a plain pcap streamed from disk equals the in-memory decode', async () => {
    const events: ParsedEvent[] = [];
    const summary = await decodeCaptureFile(join(PCAP_DIR, 'lab__getattr-flood.pcap'), (e) => events.push(e));
    expect(summary.gzip).toBe(false);
    expect(events.map(key)).toEqual(decodeCaptureBytes(loadCapture('lab__getattr-flood.pcap')).events.map(key));
  });

  it('a truncated gzip file gives a partial result with a warning, not an exception', async () => {
    const gz = readFileSync(join(PCAP_DIR, 'zeek__portmapper-many-unanswered-calls.pcapng.gz'));
    const cut = join(tmp, 'cut.pcapng.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
    const events: ParsedEvent[] = [];
    const summary = await decodeCaptureFile(cut, (e) => events.push(e));
    expect(summary.partial).toBe(true);
    expect(summary.rpcCalls).toBeGreaterThan(0);
    expect(summary.rpcCalls).toBeLessThan(5000);
    expect(events.some((e) => e.kind === 'packet' && /partial/.test(e.text))).toBe(true);
  });
});

describe('decodeCaptureInWorker', () => {
  it('decodes in a worker_thread and delivers every event in batches', async () => {
    const batches: ParsedEvent[][] = [];
    const summary = await decodeCaptureInWorker(join(PCAP_DIR, 'lab__getattr-flood.pcap'), (b) => batches.push(b), { batchSize: 500 });
    const all = batches.flat();
    const ref = decodeCaptureBytes(loadCapture('lab__getattr-flood.pcap'));
    expect(all.map(key)).toEqual(ref.events.map(key));
    expect(batches.length).toBeGreaterThan(5);
    expect(typeof all[0].ts).toBe('bigint');
    expect(summary.rpcCalls).toBe(ref.summary.rpcCalls);
  });

  it('reports a missing file as a rejection', async () => {
    await expect(decodeCaptureInWorker(join(tmp, 'nope.pcap'), () => {})).rejects.toThrow(/ENOENT/);
  });
});
