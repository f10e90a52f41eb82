import { createReadStream, readFileSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { ParsedEvent } from '../../shared/model/event';
import { createCaptureDecoder, formatSrt, srtStats } from '../../shared/capture/api';

/**
 * Stream a capture file from disk into the pure decoder, 1 MiB at a time (gunzip on the way when the file
 * starts with the gzip magic): memory stays flat whatever the file size.
 */
export async function decodeCaptureFile(file: string, onEvent: (e: ParsedEvent) => void): Promise<{ warnings: readonly string[] }> {
  const head = readFileSync(file, { flag: 'r' }).subarray(0, 2);
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const dec = createCaptureDecoder({}, onEvent);
  const warnings: string[] = [];
  const src = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = gz ? src.pipe(createGunzip({ finishFlush: 2 })) : src;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      dec.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    }
  } catch (e) {
    warnings.push(`${gz ? 'gzip stream' : 'file'} ended early: ${(e as Error).message}; decoded what was readable`);
  }
  const summary = dec.end() as { warnings?: readonly string[] };
  return { warnings: [...warnings, ...(summary.warnings ?? [])] };
}

/** `casefile stats`: service response time per program/version/procedure and per NFSv4 operation. */
export async function captureStats(file: string): Promise<string> {
  const events: ParsedEvent[] = [];
  const { warnings } = await decodeCaptureFile(file, (e) => {
    if (e.kind === 'rpc') events.push(e);
  });
  const text = formatSrt(srtStats(events));
  return warnings.length ? `${text}\n\nwarnings:\n${warnings.map((w) => `  ${w}`).join('\n')}` : text;
}
