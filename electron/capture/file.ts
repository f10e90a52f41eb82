/**
 * Node side of the capture decoder: stream a capture file from disk in chunks (gunzip when it starts with
 * 1f 8b, whatever its name) into the pure decoder. Memory stays bounded by the chunk size and the decoder's
 * open conversations, not by the file size.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { ParsedEvent } from '../../shared/model/event';
import { createCaptureDecoder, type CaptureDecoderOptions } from '../../shared/capture/decoder';
import type { CaptureSummary } from '../../shared/rpc/types';

const CHUNK = 1024 * 1024;

export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Decode a capture file, calling `emit` for every event. Resolves with the summary; never rejects for bad content. */
export async function decodeCaptureFile(path: string, emit: (e: ParsedEvent) => void, opts: CaptureDecoderOptions = {}): Promise<CaptureSummary> {
  const gzip = await isGzipFile(path);
  const dec = createCaptureDecoder(opts, emit);
  let ioError: string | undefined;
  if (gzip) {
    const source = createReadStream(path, { highWaterMark: CHUNK });
    try {
      for await (const chunk of source.pipe(createGunzip({ chunkSize: CHUNK }))) {
        const b = chunk as Buffer;
        dec.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      }
    } catch (e) {
      // A truncated gzip member or an I/O error: keep what was decoded and say so.
      ioError = e instanceof Error ? e.message : String(e);
      source.destroy();
    }
  } else {
    // Plain file: two buffers reused for every chunk (the decoder copies whatever must outlive push: a block
    // straddling chunks, held TCP segments, multi-fragment records), the next read in flight while the current
    // chunk is decoded. No 1 MB Buffer per chunk left for the GC, so the RSS stays near the decoder's own.
    const fh = await open(path, 'r');
    try {
      const bufs = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
      let pos = 0;
      let i = 0;
      let next = fh.read(bufs[0], 0, CHUNK, pos);
      for (;;) {
        const { bytesRead } = await next;
        if (bytesRead === 0) break;
        pos += bytesRead;
        const cur = bufs[i];
        i ^= 1;
        next = fh.read(bufs[i], 0, CHUNK, pos);
        dec.push(cur.subarray(0, bytesRead));
      }
    } catch (e) {
      ioError = e instanceof Error ? e.message : String(e);
    } finally {
      await fh.close();
    }
  }
  const summary = dec.end();
  if (ioError === undefined && !gzip) return { ...summary, gzip };
  const warnings = ioError === undefined ? summary.warnings : [...summary.warnings, `input ended with an error (${ioError}); the result is partial`];
  if (ioError !== undefined) {
    emit({ kind: 'packet', clock: 'none', level: 'warn', text: `capture input error: ${ioError}; the result is partial`, data: { reason: 'input-error' } });
  }
  return { ...summary, gzip, warnings, partial: warnings.length > 0 };
}

/** Read a whole capture into memory, decompressed (for readPacketAt on small files and for tests). */
export async function readCaptureBytes(path: string): Promise<Uint8Array> {
  const gzip = await isGzipFile(path);
  const source = createReadStream(path, { highWaterMark: CHUNK });
  const stream = gzip ? source.pipe(createGunzip()) : source;
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  const all = Buffer.concat(parts);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}
