/**
 * Capture fuzz targets the decodeCaptureBytes fuzzer does not reach: the async stream decoder (gzip inflated by
 * DecompressionStream, arbitrary chunk splits) and frame access by offset (readPacketAt).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeCaptureBytes, readPacketAt } from '../../shared/capture/api';
import { decodeCaptureStream } from '../../shared/capture/stream';
import type { ParsedEvent } from '../../shared/model/event';
import { BYTE_MUTATORS, mutate } from './mutate';
import { captureInternalErrors, eventProblems, loadFixtures } from './check';
import { splitChunks, stableJson, type FuzzTarget } from './targets-harness';

/** Every real capture small enough for a 1 s budget, decompressed (gzip is applied per case). */
export const captureSeeds = loadFixtures(['pcaps'])
  .filter((s) => s.bytes.length <= 400_000)
  .map((s) => ({ name: s.name, bytes: s.name.endsWith('.gz') ? new Uint8Array(gunzipSync(s.bytes)) : s.bytes }));
const donors = captureSeeds.map((s) => s.bytes);

function summaryProblems(s: unknown): string[] {
  if (typeof s !== 'object' || s === null) return ['summary is not an object'];
  const r = s as { warnings?: unknown; partial?: unknown };
  const p: string[] = [];
  if (!Array.isArray(r.warnings) || r.warnings.some((w) => typeof w !== 'string')) p.push('summary.warnings not strings');
  if (typeof r.partial !== 'boolean') p.push('summary.partial not boolean');
  return p;
}

function withoutGzip(s: object): string {
  const { gzip: _gzip, ...rest } = s as { gzip?: boolean };
  return stableJson(rest);
}

export interface StreamStats {
  gzipCases: number;
  rpcEvents: number;
  compared: number;
}

/**
 * decodeCaptureStream never rejects and never throws for bad content. When the bytes reach it intact (plain, or gzip
 * that inflates cleanly), its events and summary equal decodeCaptureBytes on the same capture: chunking must not
 * change the result.
 */
export function captureStreamTarget(stats: StreamStats): FuzzTarget {
  return {
    name: 'capture-stream',
    defaultN: 120,
    make(rng) {
      const seed = rng.pick(captureSeeds);
      const m = rng.chance(0.15) ? { bytes: seed.bytes, steps: ['none'] } : mutate(seed.bytes, rng, donors, BYTE_MUTATORS, 3);
      const mode = rng.int(3); // 0 plain, 1 gzip, 2 gzip then damaged
      let input = m.bytes;
      const steps = [seed.name, ...m.steps];
      if (mode >= 1) {
        input = new Uint8Array(gzipSync(m.bytes, { level: 1 }));
        steps.push('gzip');
      }
      if (mode === 2) {
        const d = mutate(input, rng, [], BYTE_MUTATORS, 1);
        input = d.bytes;
        steps.push(...d.steps.map((s) => `gz:${s}`));
      }
      const { chunks, how } = splitChunks(input, rng);
      steps.push(how);
      return {
        input,
        steps,
        run: async () => {
          const events: ParsedEvent[] = [];
          async function* source(): AsyncGenerator<Uint8Array> {
            for (const c of chunks) yield c;
          }
          const summary = await decodeCaptureStream(source(), (e) => events.push(e));
          const problems = summaryProblems(summary);
          if (problems.length === 0) problems.push(...captureInternalErrors(events, summary.warnings));
          events.forEach((e, k) => {
            for (const q of eventProblems(e)) if (problems.length < 5) problems.push(`event ${k}: ${q}`);
          });
          if (mode === 1) {
            stats.gzipCases++;
            if (summary.gzip !== true) problems.push('gzip input not reported as gzip');
          }
          stats.rpcEvents += events.filter((e) => e.kind === 'rpc').length;
          if (mode !== 2) {
            stats.compared++;
            const ref = decodeCaptureBytes(m.bytes);
            if (stableJson(events) !== stableJson(ref.events)) problems.push(`events differ from decodeCaptureBytes (${events.length} vs ${ref.events.length})`);
            else if (withoutGzip(summary) !== withoutGzip(ref.summary)) problems.push('summary differs from decodeCaptureBytes');
          }
          return problems;
        },
      };
    },
  };
}

/** Offsets where a frame really starts in each seed (RpcData.frameOffset of its decoded events). */
const frameOffsets: ReadonlyMap<Uint8Array, readonly number[]> = new Map(
  captureSeeds.map((s) => {
    const offs = new Set<number>();
    for (const e of decodeCaptureBytes(s.bytes).events) if (typeof e.data.frameOffset === 'number') offs.add(e.data.frameOffset);
    return [s.bytes, [...offs]];
  }),
);

export interface PacketStats {
  found: number;
}

/** readPacketAt(capture, offset): a well-formed frame or undefined, for any capture bytes and any integer offset. */
export function readPacketAtTarget(stats: PacketStats): FuzzTarget {
  return {
    name: 'read-packet-at',
    defaultN: 400,
    make(rng) {
      const seed = rng.pick(captureSeeds);
      const m = rng.chance(0.3) ? { bytes: seed.bytes, steps: ['none'] } : mutate(seed.bytes, rng, donors, BYTE_MUTATORS, 2);
      const real = frameOffsets.get(seed.bytes) ?? [];
      const len = m.bytes.length;
      const offsets: number[] = [];
      for (let k = 0; k < 8; k++) {
        const c = rng.int(4);
        if (c === 0 && real.length > 0) offsets.push(rng.pick(real) + (rng.chance(0.2) ? rng.int(9) - 4 : 0));
        else if (c === 1) offsets.push(rng.pick([-1, 0, 1, 23, 24, 25, 28, 32, len - 1, len, len + 1, 2 ** 31, -(2 ** 31)]));
        else offsets.push(rng.int(len + 1));
      }
      return {
        input: m.bytes,
        steps: [seed.name, ...m.steps, `at ${offsets.join(',')}`],
        run: () => {
          const problems: string[] = [];
          for (const off of offsets) {
            const f = readPacketAt(m.bytes, off);
            if (f === undefined) continue;
            stats.found++;
            if (!Number.isInteger(f.linkType) || f.linkType < 0) problems.push(`@${off}: linkType ${f.linkType}`);
            if (typeof f.ts !== 'bigint') problems.push(`@${off}: ts ${typeof f.ts}`);
            if (!(f.data instanceof Uint8Array) || f.data.length > len) problems.push(`@${off}: data of ${f.data?.length} bytes from a ${len}-byte capture`);
            if (!Number.isInteger(f.origLen) || f.origLen < 0) problems.push(`@${off}: origLen ${f.origLen}`);
          }
          return problems;
        },
      };
    },
  };
}
