import { createHash } from 'node:crypto';
import type { Db } from './db';

/** Artifact bytes are stored in chunks of this size. */
export const CHUNK = 1 << 20;
const LINE_INDEX_EVERY = 1024;
const now = (): bigint => BigInt(Date.now()) * 1_000_000n;

/**
 * Streams one artifact's bytes into the store: chunked, hashed, line-indexed.
 *
 * Whole chunks are written as they fill. With `flushEveryMs` (output streaming from a host), the chunk still
 * filling is also written that often (and rewritten in place as it grows), so a Casefile killed mid-step loses at
 * most that much of what the host had sent, not up to a whole chunk: a step that printed one line and then hung
 * keeps that line. Every chunk but the last is always CHUNK bytes long, as readers assume.
 */
export class ArtifactWriter {
  private readonly hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private seq = 0;
  private size = 0;
  private lines = 0; // newlines seen
  private lastByte = -1;
  private invalidUtf8Possible = false;
  private binary = false;
  private done = false;
  private readonly insChunk;
  private readonly insLine;
  private timer: NodeJS.Timeout | undefined;
  /** Bytes of the current (partial) chunk already in the store. */
  private tailStored = 0;

  constructor(
    private readonly db: Db,
    readonly id: number,
    private readonly opts: { readonly flushEveryMs?: number } = {},
  ) {
    // Upsert: the partial chunk at `seq` may have been stored already by a timed flush.
    this.insChunk = db.prepare('INSERT INTO artifact_chunks (artifact_id, seq, data) VALUES (?, ?, ?) ON CONFLICT (artifact_id, seq) DO UPDATE SET data = excluded.data');
    this.insLine = db.prepare('INSERT OR IGNORE INTO artifact_lines (artifact_id, line, offset) VALUES (?, ?, ?)');
    this.insLine.run(id, 1, 0);
  }

  get bytesWritten(): number {
    return this.size;
  }

  write(chunk: Uint8Array): void {
    if (this.done) throw new Error('artifact already finished');
    if (chunk.length === 0) return;
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.hash.update(b);
    // Line index: record the start offset of every LINE_INDEX_EVERY-th line.
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) {
      this.lines++;
      const lineNo = this.lines + 1;
      if (lineNo % LINE_INDEX_EVERY === 1) this.insLine.run(this.id, lineNo, this.size + i + 1);
    }
    if (!this.binary && b.includes(0)) this.binary = true;
    if (!this.invalidUtf8Possible) {
      for (let i = 0; i < b.length; i++) {
        if (b[i]! >= 0x80) {
          this.invalidUtf8Possible = true;
          break;
        }
      }
    }
    this.lastByte = b[b.length - 1]!;
    this.size += b.length;
    this.pending.push(Buffer.from(b)); // copy: callers may reuse their buffer
    this.pendingLen += b.length;
    if (this.pendingLen >= CHUNK) this.flushFull();
    if (this.opts.flushEveryMs !== undefined && this.timer === undefined && this.pendingLen > this.tailStored) {
      this.timer = setTimeout(() => this.flushTail(), this.opts.flushEveryMs);
      this.timer.unref();
    }
  }

  /** Timed flush of the partial chunk. Never throws (it runs from a timer): a failure waits for finish(). */
  private flushTail(): void {
    this.timer = undefined;
    if (this.done || this.pendingLen === 0 || this.pendingLen === this.tailStored) return;
    try {
      const tail = Buffer.concat(this.pending, this.pendingLen);
      this.pending = [tail];
      this.db.transaction(() => {
        this.insChunk.run(this.id, this.seq, tail);
        this.db.prepare('UPDATE artifacts SET size = ? WHERE id = ?').run(this.size, this.id);
      })();
      this.tailStored = tail.length;
    } catch {
      // e.g. SQLITE_BUSY or a full disk: the bytes are still pending here and go out with the next chunk or finish()
    }
  }

  /** Write out every whole chunk pending, concatenating once (not once per chunk: a big write stays linear). */
  private flushFull(): void {
    const all = Buffer.concat(this.pending, this.pendingLen);
    let off = 0;
    while (all.length - off >= CHUNK) {
      this.insChunk.run(this.id, this.seq++, all.subarray(off, off + CHUNK));
      off += CHUNK;
    }
    this.pending = off < all.length ? [all.subarray(off)] : [];
    this.pendingLen = all.length - off;
    this.tailStored = 0;
  }

  private flushRest(): void {
    if (this.pendingLen === 0) return;
    this.insChunk.run(this.id, this.seq++, Buffer.concat(this.pending, this.pendingLen));
    this.pending = [];
    this.pendingLen = 0;
    this.tailStored = 0;
  }

  finish(fin: { exitCode?: number; endedNs?: bigint; kind?: string } = {}): number {
    if (this.done) return this.id;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushRest();
    this.done = true;
    const lineCount = this.size === 0 ? 0 : this.lines + (this.lastByte === 10 ? 0 : 1);
    this.db
      .prepare(
        `UPDATE artifacts SET size = ?, sha256 = ?, complete = 1, exit_code = ?, ended_ns = ?, is_text = ?, line_count = ?, kind = coalesce(?, kind)
         WHERE id = ?`,
      )
      .run(this.size, this.hash.digest('hex'), fin.exitCode ?? null, fin.endedNs ?? now(), this.binary ? 0 : 1, lineCount, fin.kind ?? null, this.id);
    if (this.invalidUtf8Possible && !this.binary) this.checkUtf8();
    return this.id;
  }

  private checkUtf8(): void {
    // Decode chunk by chunk (streaming) and count replacement characters the viewer will show.
    const dec = new TextDecoder('utf-8', { fatal: false });
    let bad = 0;
    const stmt = this.db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? ORDER BY seq').pluck();
    for (const c of stmt.iterate(this.id) as IterableIterator<Buffer>) {
      const s = dec.decode(c, { stream: true });
      for (let i = s.indexOf('\uFFFD'); i !== -1; i = s.indexOf('\uFFFD', i + 1)) bad++;
    }
    const tail = dec.decode();
    if (tail.includes('\uFFFD')) bad++;
    this.db.prepare('UPDATE artifacts SET invalid_utf8 = ? WHERE id = ?').run(bad, this.id);
  }
}

