import { gunzipSync } from 'node:zlib';
import { readPacketAt, writePcapng, type CapturedFrame } from '../../shared/capture/api';
import type { Store, ArtifactRow } from '../store/store';
import { ApiError } from './errors';

/**
 * Packet-level access for the viewer: one frame decoded with its raw bytes, and a slice of a capture
 * (time range and/or XIDs) written as pcapng to open in Wireshark.
 */

function captureBytes(store: Store, a: ArtifactRow): Uint8Array {
  if (a.kind !== 'pcap') throw new ApiError(`artifact ${a.id} is not a capture (${a.kind})`);
  const b = store.readArtifact(a.id);
  if (b[0] === 0x1f && b[1] === 0x8b) {
    try {
      return gunzipSync(b, { finishFlush: 2 });
    } catch (e) {
      throw new ApiError(`capture ${a.name}: gzip stream is corrupt: ${(e as Error).message}`);
    }
  }
  return b;
}

const CLASSIC_PCAP = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]);

/**
 * The frame stored at `offset` of a capture. A classic pcap needs only its 24-byte global header and that one
 * record, read by range: opening a packet of a 1 GB capture must not read the gigabyte. pcapng (the section and
 * interface blocks before the offset matter) and gzip captures are read whole.
 */
function frameAt(store: Store, a: ArtifactRow, offset: number): CapturedFrame | undefined {
  const head = store.readArtifactRange(a.id, 0, 24);
  const magic = head.length === 24 ? head.readUInt32BE(0) : 0;
  if (a.kind === 'pcap' && CLASSIC_PCAP.has(magic)) {
    if (offset < 24) return undefined;
    const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    const rh = store.readArtifactRange(a.id, offset, 16);
    if (rh.length < 16) return undefined;
    const incl = le ? rh.readUInt32LE(8) : rh.readUInt32BE(8);
    const rec = store.readArtifactRange(a.id, offset, 16 + Math.min(incl, 256 << 20));
    return readPacketAt(Buffer.concat([head, rec]), 24);
  }
  return readPacketAt(captureBytes(store, a), offset);
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
  const isReply = data.replyFrame === frame && row.line !== frame;
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
  const bytes = captureBytes(store, a);
  const frames: CapturedFrame[] = [];
  for (const off of [...offsets].sort((x, y) => x - y)) {
    const fr = readPacketAt(bytes, off);
    if (fr) frames.push(fr);
  }
  frames.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
  const out = writePcapng(frames);
  const base = a.name.replace(/\.(pcapng|pcap|cap)(\.gz)?$/i, '').replace(/[^\w.-]+/g, '_');
  return { base64: Buffer.from(out).toString('base64'), fileName: `${base}-slice.pcapng`, frames: frames.length };
}
