/**
 * gzip captures are ingested as they stream (rotated `tcpdump -z gzip` files are common): the same events as the
 * plain capture, memory bounded by a chunk rather than the decompressed size, and a cut, damaged or
 * multi-member file handled the way gzip itself would (partial result marked as such, never a crash).
 * Real fixtures: zeek's gzipped pcapng and the lab's NLM capture gzipped here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { detectKind, ingestArtifact } from '../../electron/ingest/ingest';
import { gunzipChunks, gunzipHead } from '../../electron/ingest/gunzip';
import { decodeCaptureBytes } from '../../shared/capture/decoder';

const pcaps = resolve(__dirname, '..', 'fixtures', 'pcaps');
let dir: string;
let store: Store;
let caseId: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-gzip-'));
  store = new Store(openDb(join(dir, 'c.db')));
  caseId = store.createCase('gz').id;
});
afterAll(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

function ingest(name: string, bytes: Uint8Array) {
  const id = store.putArtifact({ caseId, name, kind: 'auto', source: 'import' }, bytes);
  const r = ingestArtifact(store, id);
  return { ...r, texts: store.listEvents(caseId, { artifactId: id, limit: 100_000 }).map((e) => e.text) };
}

const nlm = readFileSync(join(pcaps, 'lab__nlm-conflict.pcap'));
const plain = decodeCaptureBytes(new Uint8Array(nlm)).events.map((e) => e.text);

describe('gzip captures', () => {
  it('a gzipped capture gives exactly the events of the plain one (zeek pcapng.gz and a lab capture)', () => {
    const zeek = readFileSync(join(pcaps, 'zeek__portmapper-many-unanswered-calls.pcapng.gz'));
    const z = ingest('zeek.pcapng.gz', zeek);
    expect(z.kind).toBe('pcap');
    expect(z.status).toBe('parsed');
    expect(z.texts).toEqual(decodeCaptureBytes(new Uint8Array(gunzipSync(zeek))).events.map((e) => e.text));
    const g = ingest('nlm.pcap.gz', gzipSync(nlm));
    expect(g.status).toBe('parsed');
    expect(g.texts).toEqual(plain);
  });

  it('reads concatenated gzip members as one stream, as gzip -d does', () => {
    const half = Math.floor(nlm.length / 2);
    const r = ingest('two-members.pcap.gz', Buffer.concat([gzipSync(nlm.subarray(0, half)), gzipSync(nlm.subarray(half))]));
    expect(r.status).toBe('parsed');
    expect(r.texts).toEqual(plain);
  });

  it('a cut file keeps what was readable and says the result is partial', () => {
    const gz = gzipSync(nlm);
    const r = ingest('cut.pcap.gz', gz.subarray(0, Math.floor(gz.length * 0.7)));
    expect(r.status).toBe('partial');
    expect(r.warnings.join('\n')).toMatch(/gzip stream is truncated/);
    expect(r.eventCount).toBeGreaterThan(0);
    expect(r.eventCount).toBeLessThan(plain.length + 5);
  });

  it('a damaged file is reported as corrupt (CRC-32 checked), never decoded silently', () => {
    const gz = Buffer.from(gzipSync(nlm));
    // Flip bits in the last stretch of compressed data, where the decoder may still find valid-looking codes.
    for (let i = gz.length - 300; i < gz.length - 200; i++) gz[i] ^= 0x10;
    const r = ingest('damaged.pcap.gz', gz);
    expect(r.status).toBe('partial');
    expect(r.warnings.join('\n')).toMatch(/gzip stream is corrupt/);
  });

  it('streams: output comes chunk by chunk, each bounded, not as one decompressed buffer', () => {
    // 16 MiB of 4-bit noise: compresses about 2:1, like a capture of mixed payloads.
    const big = Buffer.alloc(16 << 20);
    for (let i = 0, x = 1; i < big.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      big[i] = x >>> 28;
    }
    const gz = gzipSync(big);
    const chunks = [];
    for (let i = 0; i < gz.length; i += 1 << 20) chunks.push(gz.subarray(i, i + (1 << 20)));
    let n = 0;
    let largest = 0;
    let total = 0;
    const problems: unknown[] = [];
    for (const c of gunzipChunks(chunks, (p) => problems.push(p))) {
      n++;
      largest = Math.max(largest, c.length);
      total += c.length;
    }
    expect(problems).toEqual([]);
    expect(total).toBe(big.length);
    expect(n).toBeGreaterThan(5);
    expect(largest).toBeLessThan(big.length / 4);
  });

  it('sniffing a gzip bomb decompresses only its first bytes', () => {
    const bomb = gzipSync(Buffer.alloc(300 << 20)); // 300 MiB of zeros in ~300 KB
    const head = gunzipHead(bomb, 64);
    expect(head?.length).toBe(64);
    expect(detectKind(bomb)).toBe('binary');
    expect(gunzipHead(Buffer.from('not gzip'), 64)).toBeUndefined();
  });
});
