import { copyFrame, readPacketAt, writePcapng, type CapturedFrame } from '../../shared/capture/api';
import { ContainerReader } from '../../shared/capture/container/reader';
import { gunzipChunks } from '../ingest/gunzip';
import type { Store, ArtifactRow } from '../store/store';
import { ApiError } from './errors';

/**
 * Packet-level access for the viewer: one frame decoded with its raw bytes, and a slice of a capture
 * (time range and/or XIDs) written as pcapng to open in Wireshark.
 */

const CLASSIC_PCAP = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]);

/**
 * The frames stored at `offsets` (byte offsets in the decompressed capture), read as one pass over the stored
 * chunks: a gzip capture is decompressed as it streams, pcapng sections and interfaces are followed by the
 * container reader, and the pass stops after the last wanted offset. Memory holds one chunk plus the frames
 * picked, never the capture. A corrupt gzip stream is an error when a wanted frame lies beyond the damage.
 */
function framesAt(store: Store, a: ArtifactRow, offsets: readonly number[]): Map<number, CapturedFrame> {
  const wanted = new Set(offsets);
  const last = offsets.reduce((m, o) => Math.max(m, o), -1);
  const found = new Map<number, CapturedFrame>();
  if (wanted.size === 0) return found;
  let beyond = false;
  const reader = new ContainerReader((f) => {
    if (f.offset > last) beyond = true;
    if (wanted.has(f.offset) && !found.has(f.offset)) {
      found.set(f.offset, copyFrame(f));
    }
  });
  const first = store.readArtifactRange(a.id, 0, 2);
  let damage: string | undefined;
  const chunks: Iterable<Uint8Array> =
    first[0] === 0x1f && first[1] === 0x8b
      ? gunzipChunks(store.artifactChunks(a.id), (p) => {
          damage = p.kind === 'truncated' ? 'the gzip stream is truncated' : `the gzip stream is corrupt (${p.message})`;
        })
      : store.artifactChunks(a.id);
  for (const c of chunks) {
    reader.push(c);
    if (beyond || found.size === wanted.size || reader.stopped) break;
  }
  if (found.size < wanted.size && damage) throw new ApiError(`capture ${a.name}: ${damage}: the frames after the damage cannot be read`);
  return found;
}

/**
 * The frame stored at `offset` of a capture. A classic pcap needs only its 24-byte global header and that one
 * record, read by range: opening a packet of a 1 GB capture must not read the gigabyte. pcapng (the section and
 * interface blocks before the offset matter) and gzip captures are streamed up to the frame, in bounded memory.
 */
function frameAt(store: Store, a: ArtifactRow, offset: number): CapturedFrame | undefined {
  if (a.kind !== 'pcap') throw new ApiError(`artifact ${a.id} is not a capture (${a.kind})`);
  const head = store.readArtifactRange(a.id, 0, 24);
  const magic = head.length === 24 ? head.readUInt32BE(0) : 0;
  if (CLASSIC_PCAP.has(magic)) {
    if (offset < 24) return undefined;
    const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    const rh = store.readArtifactRange(a.id, offset, 16);
    if (rh.length < 16) return undefined;
    const incl = le ? rh.readUInt32LE(8) : rh.readUInt32BE(8);
    const rec = store.readArtifactRange(a.id, offset, 16 + Math.min(incl, 256 << 20));
    return readPacketAt(Buffer.concat([head, rec]), 24);
  }
  return framesAt(store, a, [offset]).get(offset);
}

interface RpcRow {
  id: number;
  line: number | null;
  text: string;
  data_json: string;
}

export function packetAt(store: Store, artifactId: number, frame: number) {
  const a = store.getArtifact(artifactId);
  if (!a) throw new ApiError(`artifact ${artifactId} not found`, 'not-found');
  const row = store.db
    .prepare("SELECT id, line, text, data_json FROM events WHERE artifact_id = ? AND kind = 'rpc' AND (line = ? OR json_extract(data_json, '$.replyFrame') = ?) LIMIT 1")
    .get(artifactId, frame, frame) as RpcRow | undefined;
  if (!row) throw new ApiError(`no RPC call or reply at frame ${frame} of ${a.name}`, 'not-found');
  const data = JSON.parse(row.data_json) as Record<string, unknown>;
  // A reply whose call is not in the capture is stored as an event at the reply's own frame (orphanReply).
  const isReply = data.replyFrame === frame && (row.line !== frame || data.orphanReply === true);
  const offset = (isReply ? data.replyFrameOffset : data.frameOffset) as number | undefined;
  let f: CapturedFrame | undefined;
  if (typeof offset === 'number') f = frameAt(store, a, offset);
  const bytes = f?.data ?? new Uint8Array();
  return {
    frame,
    role: isReply ? ('reply' as const) : ('call' as const),
    eventId: row.id,
    text: row.text,
    data,
    tsNs: f ? f.ts.toString() : undefined,
    linkType: f?.linkType,
    length: f?.origLen ?? 0,
    hex: Buffer.from(bytes.subarray(0, 65536)).toString('hex'),
    note: f ? undefined : 'the raw frame could not be located in the stored capture',
  };
}

export function exportPcapSlice(store: Store, artifactId: number, f: { fromNs?: bigint; toNs?: bigint; xids?: readonly number[] }) {
  const a = store.getArtifact(artifactId);
  if (!a) throw new ApiError(`artifact ${artifactId} not found`, 'not-found');
  const where = ['artifact_id = ?', "kind = 'rpc'"];
  const args: unknown[] = [artifactId];
  if (f.fromNs !== undefined) (where.push('ts_ns >= ?'), args.push(f.fromNs));
  if (f.toNs !== undefined) (where.push('ts_ns < ?'), args.push(f.toNs));
  if (f.xids?.length) (where.push(`json_extract(data_json, '$.xid') IN (${f.xids.map(() => '?').join(',')})`), args.push(...f.xids));
  const rows = store.db.prepare(`SELECT data_json FROM events WHERE ${where.join(' AND ')} ORDER BY line LIMIT 200000`).all(...args) as { data_json: string }[];
  const offsets = new Set<number>();
  for (const r of rows) {
    const d = JSON.parse(r.data_json) as { frameOffset?: number; replyFrameOffset?: number };
    if (typeof d.frameOffset === 'number') offsets.add(d.frameOffset);
    if (typeof d.replyFrameOffset === 'number') offsets.add(d.replyFrameOffset);
  }
  if (a.kind !== 'pcap') throw new ApiError(`artifact ${a.id} is not a capture (${a.kind})`);
  const frames = [...framesAt(store, a, [...offsets]).values()];
  frames.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
  const out = writePcapng(frames);
  const base = a.name.replace(/\.(pcapng|pcap|cap)(\.gz)?$/i, '').replace(/[^\w.-]+/g, '_');
  return { base64: Buffer.from(out).toString('base64'), fileName: `${base}-slice.pcapng`, frames: frames.length };
}
