/**
 * Decode a capture from any async byte source (a browser File stream, a fetch body, a Node stream), with
 * gzip recognised by its magic bytes (1f 8b) and inflated with the web-standard DecompressionStream
 * (no Node zlib: this module is pure TypeScript and runs in the renderer too).
 */
import type { ParsedEvent } from '../model/event';
import type { CaptureSummary } from '../rpc/types';
import { createCaptureDecoder, type CaptureDecoderOptions } from './decoder';

async function* gunzip(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const pump = (async (): Promise<void> => {
    try {
      // BufferSource wants an ArrayBuffer-backed view; copy only views over a SharedArrayBuffer.
      const own = (u: Uint8Array): Uint8Array<ArrayBuffer> => (u.buffer instanceof ArrayBuffer ? (u as Uint8Array<ArrayBuffer>) : new Uint8Array(u));
      await writer.write(own(first));
      for (let n = await rest.next(); !n.done; n = await rest.next()) await writer.write(own(n.value));
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => undefined);
    }
  })();
  const reader = ds.readable.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
  } finally {
    await pump;
  }
}

export async function decodeCaptureStream(
  source: AsyncIterable<Uint8Array>,
  emit: (e: ParsedEvent) => void,
  opts: CaptureDecoderOptions = {},
): Promise<CaptureSummary> {
  const it = source[Symbol.asyncIterator]();
  const dec = createCaptureDecoder(opts, emit);
  let first = await it.next();
  while (!first.done && first.value.length < 2) {
    // A 1-byte first chunk cannot tell gzip apart: join it with the next one.
    const next = await it.next();
    if (next.done) break;
    const joined = new Uint8Array(first.value.length + next.value.length);
    joined.set(first.value);
    joined.set(next.value, first.value.length);
    first = { done: false, value: joined };
  }
  if (first.done) return dec.end();
  const gzip = first.value[0] === 0x1f && first.value[1] === 0x8b;
  let error: string | undefined;
  try {
    if (gzip) for await (const chunk of gunzip(first.value, it)) dec.push(chunk);
    else {
      dec.push(first.value);
      for (let n = await it.next(); !n.done; n = await it.next()) dec.push(n.value);
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const summary = dec.end();
  if (error === undefined) return { ...summary, gzip };
  emit({ kind: 'packet', clock: 'none', level: 'warn', text: `capture input error: ${error}; the result is partial`, data: { reason: 'input-error' } });
  return { ...summary, gzip, warnings: [...summary.warnings, `input ended with an error (${error}); the result is partial`], partial: true };
}
