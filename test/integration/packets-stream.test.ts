import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';
import { CHUNK } from '../../electron/store/artifact-writer';
import { copyFrame, readPacketAt, writePcapng, type CapturedFrame } from '../../shared/capture/api';
import { ContainerReader } from '../../shared/capture/container/reader';

/**
 * Opening one packet, and exporting a slice, of pcapng and gzip captures: streamed from the stored chunks up to
 * the frames wanted (never the whole capture in memory), and byte-identical to reading the whole file.
 */
const fx = resolve(__dirname, '..', 'fixtures', 'pcaps');
let dir: string;
let backend: Backend;
let caseId: number;
/** Every stored chunk handed out by the store, counted (an observation of the real store, not a stand-in). */
let chunksRead = 0;

/** The lab's GETATTR flood (a classic pcap, real packets) rewritten as pcapng: large enough for several chunks. */
function floodAsPcapng(): Uint8Array {
  const frames: CapturedFrame[] = [];
  const r = new ContainerReader((f) => frames.push(copyFrame(f)));
  r.push(new Uint8Array(readFileSync(join(fx, 'lab__getattr-flood.pcap'))));
  return writePcapng(frames);
}

const call = (m: string, i: unknown) => backend.call(m, i) as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every RPC event of an artifact, through the API's pages. */
async function allRpc(artifactId: number): Promise<any[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const out = [];
  for (let offset = 0; ; offset += 5000) {
    const page = await call('events.list', { caseId, artifactId, kinds: ['rpc'], limit: 5000, offset });
    out.push(...page);
    if (page.length < 5000) return out;
  }
}

interface Imported {
  id: number;
  whole: Uint8Array;
}
const imported = new Map<string, Imported>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-packets-'));
  const dbFile = join(dir, 'c.db');
  backend = new Backend({ db: openDb(dbFile), dbFile, playbookDir: resolve(__dirname, '..', '..', 'playbooks') });
  const chunks = backend.store.artifactChunks.bind(backend.store);
  backend.store.artifactChunks = function* (id: number) {
    for (const c of chunks(id)) {
      chunksRead++;
      yield c;
    }
  };
  caseId = backend.store.createCase('packets').id;
  const flood = floodAsPcapng();
  expect(flood.length).toBeGreaterThan(2 * CHUNK);
  const recall = new Uint8Array(readFileSync(join(fx, 'linux-nfs-ml__pnfs_failing_recall.pcap')));
  const inputs: [string, Uint8Array, Uint8Array][] = [
    ['flood.pcapng', flood, flood],
    ['flood.pcapng.gz', gzipSync(flood), flood],
    ['recall.pcapng', recall, recall],
    // Two gzip members (what `cat a.gz b.gz` makes): one stream of the whole capture.
    ['recall-2members.pcapng.gz', Buffer.concat([gzipSync(recall.subarray(0, 5000)), gzipSync(recall.subarray(5000))]), recall],
  ];
  for (const [name, stored, whole] of inputs) {
    const a = await backend.importArtifact(caseId, name, stored, { hostName: 'lab' });
    imported.set(name, { id: a.id, whole });
  }
});
afterAll(async () => {
  await backend.dispose();
  backend.store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('packets of pcapng and gzip captures', () => {
  it('opens every RPC frame exactly as from the whole decompressed file', async () => {
    for (const [name, a] of imported) {
      const evs = await allRpc(a.id);
      expect(evs.length, name).toBeGreaterThan(5);
      // Every frame of the small captures; a spread of the flood's (each open streams up to its frame).
      const step = Math.max(1, Math.floor(evs.length / 25));
      for (let i = 0; i < evs.length; i += step) {
        const e = evs[i];
        const frames: [number, number][] = [];
        if (typeof e.data.frameOffset === 'number') frames.push([e.line, e.data.frameOffset]);
        if (typeof e.data.replyFrameOffset === 'number') frames.push([e.data.replyFrame, e.data.replyFrameOffset]);
        for (const [frame, offset] of frames) {
          const p = await call('artifacts.packet', { artifactId: a.id, frame });
          const ref = readPacketAt(a.whole, offset)!;
          // A reply whose call the capture lacks is an event at its own frame, opened as the reply.
          expect(p.role, `${name} frame ${frame}`).toBe(offset === e.data.replyFrameOffset ? 'reply' : 'call');
          expect(ref, `${name} frame ${frame}`).toBeDefined();
          expect(p.hex, `${name} frame ${frame}`).toBe(Buffer.from(ref.data).toString('hex'));
          expect(p.tsNs).toBe(ref.ts.toString());
          expect(p.length).toBe(ref.origLen);
        }
      }
    }
  });

  it('reads the stored capture only up to the frame opened', async () => {
    // (The gzip copy of the flood compresses into one stored chunk, so only the pcapng shows the early stop.)
    for (const name of ['flood.pcapng']) {
      const a = imported.get(name)!;
      const evs = (await allRpc(a.id)).filter((e) => typeof e.data.frameOffset === 'number');
      const first = evs.reduce((m, e) => (e.data.frameOffset < m.data.frameOffset ? e : m));
      const last = evs.reduce((m, e) => (e.data.frameOffset > m.data.frameOffset ? e : m));
      expect(last.data.frameOffset).toBeGreaterThan(CHUNK);
      chunksRead = 0;
      await call('artifacts.packet', { artifactId: a.id, frame: first.line });
      expect(chunksRead, name).toBe(1);
      chunksRead = 0;
      await call('artifacts.packet', { artifactId: a.id, frame: last.line });
      expect(chunksRead, name).toBeGreaterThan(1);
    }
  });

  it('exports a slice of a gzip pcapng that tshark reads back', async () => {
    const a = imported.get('flood.pcapng.gz')!;
    const evs = await allRpc(a.id);
    const picked = [evs[3], evs[Math.floor(evs.length / 2)], evs[evs.length - 2]].filter((e) => e.data.replyFrameOffset !== undefined);
    expect(picked.length).toBe(3);
    const slice = await call('artifacts.exportPcap', { artifactId: a.id, xids: picked.map((e) => e.data.xid) });
    // Each XID has a call and a reply; XIDs repeat in the flood, so every call and reply with them is taken.
    const expected = evs.filter((e: { data: { xid: number } }) => picked.some((p) => p.data.xid === e.data.xid));
    const frames = expected.reduce((n: number, e: { data: { frameOffset?: number; replyFrameOffset?: number } }) => n + (e.data.frameOffset !== undefined ? 1 : 0) + (e.data.replyFrameOffset !== undefined ? 1 : 0), 0);
    expect(slice.frames).toBe(frames);
    const file = join(dir, slice.fileName);
    writeFileSync(file, Buffer.from(slice.base64, 'base64'));
    if (existsSync('/usr/bin/tshark')) {
      const out = execFileSync('tshark', ['-n', '-o', 'tcp.try_heuristic_first:TRUE', '-r', file, '-T', 'fields', '-e', 'rpc.xid'], { encoding: 'utf8' });
      const xids = new Set(out.trim().split('\n').map((x) => Number.parseInt(x, 16)));
      expect([...xids].sort()).toEqual([...new Set(picked.map((e) => e.data.xid >>> 0))].sort());
    }
  });
});
