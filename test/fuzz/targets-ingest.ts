/**
 * Fuzz targets for the ingest path (electron/ingest): line splitting across chunks (LineFeeder), streaming gunzip,
 * kind detection, and the host-info / systemctl / mounts parsers fed the way ingest feeds them (bytes in chunks ->
 * streaming UTF-8 decode -> LineFeeder -> guarded parser), compared with parsing the whole text at once.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { gunzipChunks, gunzipHead } from '../../electron/ingest/gunzip';
import { detectKind, sniffBinaryKind } from '../../electron/ingest/ingest';
import { LineFeeder, MAX_LINE } from '../../electron/ingest/lines';
import type { ParsedEvent } from '../../shared/model/event';
import { createTextParser, parseText } from '../../shared/parsers';
import { ARTIFACT_KINDS, type ArtifactKind } from '../../shared/parsers/types';
import { BYTE_MUTATORS, mutate, type Rng } from './mutate';
import { eventProblems, loadFixtures, parserInternalErrors } from './check';
import { splitChunks, stableJson, type FuzzTarget } from './targets-harness';

const textSeeds = loadFixtures(['kmsg', 'logs', 'stuck', 'ssh', 'evidence', 'fuzz-seeds'], (n) => !/\.(pcap|pcapng|cap|gz)$/.test(n));
const captureSeeds = loadFixtures(['pcaps'], (n) => !n.includes('getattr-flood'));
const allSeeds = [...textSeeds, ...captureSeeds];
const textDonors = textSeeds.map((s) => s.bytes);

/** What LineFeeder must yield for a whole text: split on "\n", one "\r" before it dropped, no empty last line. */
function referenceLines(text: string): string[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Bytes in chunks through a streaming decoder into a LineFeeder, as ingestArtifact does. */
function feedChunks(chunks: readonly Uint8Array[], parser: { line(t: string, n: number): void; end(): void }): LineFeeder {
  const dec = new TextDecoder('utf-8', { fatal: false });
  const feeder = new LineFeeder(parser);
  for (const c of chunks) feeder.push(dec.decode(c, { stream: true }));
  feeder.end(dec.decode());
  return feeder;
}

/** The same bytes re-cut so that up to 20 chunks end between a "\r" and its "\n" (the CRLF straddling a chunk edge). */
function cutBetweenCrLf(b: Uint8Array, chunks: readonly Uint8Array[], rng: Rng): Uint8Array[] {
  const edges = new Set<number>();
  let o = 0;
  for (const c of chunks) edges.add((o += c.length));
  for (let k = 0, from = 0; k < 20; k++) {
    const at = b.indexOf(13, from + rng.int(4096));
    if (at < 0) break;
    if (b[at + 1] === 10) edges.add(at + 1);
    from = at + 1;
  }
  const cuts = [...edges].filter((e) => e > 0 && e < b.length).sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const e of [...cuts, b.length]) {
    out.push(b.subarray(prev, e));
    prev = e;
  }
  return out;
}

/** LineFeeder: the lines (and their numbers) are those of splitting the whole text, however the bytes are cut. */
export function lineFeederTarget(stats: { lines: number; crlfSplits: number }): FuzzTarget {
  return {
    name: 'line-feeder',
    defaultN: 250,
    make(rng) {
      const seed = rng.pick(textSeeds);
      const mut = mutate(seed.bytes, rng, textDonors, undefined, 3);
      const crlf = rng.chance(0.3);
      const m = crlf ? { bytes: new Uint8Array(Buffer.from(Buffer.from(mut.bytes).toString('latin1').replace(/\n/g, '\r\n'), 'latin1')), steps: [...mut.steps, 'crlf'] } : mut;
      const split = splitChunks(m.bytes, rng);
      const chunks = crlf ? cutBetweenCrLf(m.bytes, split.chunks, rng) : split.chunks;
      const how = split.how;
      return {
        input: m.bytes,
        steps: [seed.name, ...m.steps, how],
        run: () => {
          const got: string[] = [];
          const p: string[] = [];
          let ended = 0;
          const feeder = feedChunks(chunks, {
            line(t, n) {
              if (n !== got.length + 1 && p.length < 3) p.push(`line number ${n} after ${got.length} lines`);
              got.push(t);
            },
            end() {
              ended++;
            },
          });
          if (ended !== 1) p.push(`end() called ${ended} times`);
          for (let k = 0; k + 1 < chunks.length; k++) if (chunks[k]!.at(-1) === 13 && chunks[k + 1]![0] === 10) stats.crlfSplits++;
          const want = referenceLines(new TextDecoder('utf-8').decode(m.bytes));
          stats.lines += got.length;
          if (want.some((l) => l.length > MAX_LINE)) {
            // The cut point of an over-long line depends on the chunks; only the bound is a property then.
            if (feeder.cut === 0 || got.some((l) => l.length > MAX_LINE)) p.push('over-long line not cut to MAX_LINE');
          } else if (feeder.cut !== 0) p.push(`${feeder.cut} lines cut though none exceeds MAX_LINE`);
          else if (got.length !== want.length || got.some((l, k) => l !== want[k])) {
            const k = got.findIndex((l, j) => l !== want[j]);
            p.push(`lines differ from splitting the whole text: ${got.length} vs ${want.length}, first at ${k}: ${JSON.stringify(got[k]?.slice(0, 60))} vs ${JSON.stringify(want[k]?.slice(0, 60))}`);
          }
          return p;
        },
      };
    },
  };
}

/**
 * Chunks as the store hands them to gunzipChunks (up to 1 MiB; here 4 KiB and up so chunk edges fall inside
 * members), with the last few bytes cut into 1-3 byte pieces to reach the trailer bookkeeping for short chunks.
 * Not single bytes throughout: fflate's streaming inflate re-reads its pending input on every push, which is slow
 * for tiny pushes and never happens in ingest.
 */
function storeChunks(b: Uint8Array, rng: Rng): { chunks: Uint8Array[]; how: string } {
  const size = rng.chance(0.3) ? b.length : 4096 + rng.int(65_536);
  const tail = rng.chance(0.5) ? Math.min(b.length, 1 + rng.int(16)) : 0;
  const chunks: Uint8Array[] = [];
  let o = 0;
  for (; o < b.length - tail; o += size) chunks.push(b.subarray(o, Math.min(o + size, b.length - tail)));
  for (o = b.length - tail; o < b.length; ) {
    const n = Math.min(b.length - o, 1 + rng.int(3));
    chunks.push(b.subarray(o, o + n));
    o += n;
  }
  return { chunks, how: `chunks of ${size}, tail ${tail}` };
}

/**
 * gunzipChunks: intact gzip comes back byte for byte with no problem reported; damaged gzip never throws, reports
 * at most one problem, and whatever it returns without a problem is what zlib returns too.
 */
export function gunzipTarget(stats: { intact: number; problems: number }): FuzzTarget {
  return {
    name: 'gunzip',
    defaultN: 250,
    make(rng) {
      const seed = rng.pick(allSeeds);
      const plain = seed.name.endsWith('.gz') ? new Uint8Array(gunzipSync(seed.bytes)) : seed.bytes;
      const m = mutate(plain, rng, textDonors, BYTE_MUTATORS, 2);
      let gz: Uint8Array = new Uint8Array(gzipSync(m.bytes, { level: rng.pick([1, 6]) }));
      const steps = [seed.name, ...m.steps];
      if (rng.chance(0.25)) {
        // `cat a.gz b.gz`: two members read as one stream.
        gz = new Uint8Array(Buffer.concat([gz, gzipSync(m.bytes.subarray(0, 100))]));
        steps.push('2 members');
      }
      const damaged = rng.chance(0.5);
      if (damaged) {
        const d = mutate(gz, rng, [], BYTE_MUTATORS, 2);
        gz = d.bytes;
        steps.push(...d.steps.map((s) => `gz:${s}`));
      }
      const { chunks, how } = storeChunks(gz, rng);
      steps.push(how);
      return {
        input: gz,
        steps,
        run: () => {
          const out: Uint8Array[] = [];
          const problems: { kind: string; message: string }[] = [];
          for (const c of gunzipChunks(chunks, (q) => problems.push(q))) out.push(c);
          const got = Buffer.concat(out);
          const p: string[] = [];
          if (problems.length > 1) p.push(`${problems.length} problems reported`);
          for (const q of problems) if ((q.kind !== 'truncated' && q.kind !== 'corrupt') || typeof q.message !== 'string') p.push(`problem ${JSON.stringify(q)}`);
          let want: Buffer | undefined;
          try {
            want = gunzipSync(gz);
          } catch {
            want = undefined;
          }
          if (!damaged) {
            stats.intact++;
            const full = want ?? Buffer.alloc(0);
            if (problems.length > 0) p.push(`intact gzip reported ${problems[0]!.kind}: ${problems[0]!.message}`);
            if (!got.equals(full)) p.push(`intact gzip inflated to ${got.length} bytes, zlib ${full.length}`);
          } else if (problems.length > 0) stats.problems++;
          else if (want !== undefined && !got.equals(want)) p.push(`no problem reported, but ${got.length} bytes differ from zlib's ${want.length}`);
          const head = gunzipHead(gz, 64);
          if (head !== undefined && (!(head instanceof Uint8Array) || head.length > 64)) p.push(`gunzipHead gave ${head.length} bytes`);
          return p;
        },
      };
    },
  };
}

/** detectKind / sniffBinaryKind: a known kind for any bytes; gzip of an intact capture is still a capture. */
export function detectKindTarget(stats: { pcap: number; text: number; parsed: number }): FuzzTarget {
  return {
    name: 'detect-kind',
    defaultN: 400,
    make(rng) {
      const seed = rng.pick(allSeeds);
      const raw = rng.chance(0.3);
      const m = raw ? { bytes: seed.bytes, steps: ['none'] } : mutate(seed.bytes, rng, textDonors, rng.chance(0.5) ? BYTE_MUTATORS : undefined, 3);
      const wrap = rng.chance(0.2);
      const input = wrap ? new Uint8Array(gzipSync(m.bytes)) : m.bytes;
      return {
        input,
        steps: [seed.name, ...m.steps, ...(wrap ? ['gzip'] : [])],
        run: () => {
          const k: ArtifactKind = detectKind(input);
          const b = sniffBinaryKind(input.subarray(0, 64));
          const p: string[] = [];
          if (!(ARTIFACT_KINDS as readonly string[]).includes(k)) p.push(`kind ${String(k)}`);
          if (b !== undefined && b !== 'pcap' && b !== 'gzip') p.push(`sniffed ${String(b)}`);
          if (b === 'pcap' && k !== 'pcap') p.push(`pcap magic but kind ${k}`);
          const seedIsCapture = /\.(pcap|pcapng|cap|gz)$/.test(seed.name);
          if (raw && seedIsCapture && k !== 'pcap') p.push(`real capture detected as ${k}`);
          if (raw && wrap && seedIsCapture && !seed.name.endsWith('.gz') && k !== 'pcap') p.push(`gzip of a real capture detected as ${k}`);
          if (k === 'pcap') stats.pcap++;
          else if (k !== 'binary' && k !== 'text') stats.parsed++;
          else stats.text++;
          return p;
        },
      };
    },
  };
}

const OWN_KIND_EVENT: Readonly<Record<string, string>> = { 'host-info': 'host', systemctl: 'service', mounts: 'mount' };

/** Seeds of one parser's own kind: fixtures under fuzz-seeds/<dir> plus any evidence file of that kind. */
function ownSeeds(kind: 'host-info' | 'systemctl' | 'mounts'): { name: string; bytes: Uint8Array }[] {
  const dir = kind === 'host-info' ? 'host-info' : kind;
  const own = loadFixtures([`fuzz-seeds/${dir}`]);
  if (kind === 'host-info') own.push(...loadFixtures(['evidence'], (n) => n.endsWith('host-info.txt')));
  if (kind === 'systemctl') own.push(...loadFixtures(['ssh'], (n) => n.includes('lab-c-investigation')));
  return own;
}

/**
 * host-info, systemctl, mounts: whole (parseText) and chunk by chunk (LineFeeder + createTextParser, as ingest
 * runs them) give the same well-formed events, with no swallowed parser error.
 */
export function textParserTarget(kind: 'host-info' | 'systemctl' | 'mounts', stats: { real: number }): FuzzTarget {
  const own = ownSeeds(kind);
  const donors = [...own.map((s) => s.bytes), ...textDonors.slice(0, 30)];
  return {
    name: `ingest-${kind}`,
    defaultN: 200,
    make(rng) {
      const seed = rng.chance(0.85) ? rng.pick(own) : rng.pick(textSeeds);
      const m = rng.chance(0.1) ? { bytes: seed.bytes, steps: ['none'] } : mutate(seed.bytes, rng, donors, undefined, 3);
      const { chunks, how } = splitChunks(m.bytes, rng);
      const ctx = rng.chance(0.5) ? { collectedAtNs: 1_795_316_739_025_475_804n, host: 'fuzz' } : {};
      return {
        input: m.bytes,
        steps: [seed.name, ...m.steps, how],
        run: () => {
          const whole = parseText(kind, new TextDecoder('utf-8').decode(m.bytes), ctx);
          const streamed: ParsedEvent[] = [];
          const parser = createTextParser(kind, ctx, (e) => streamed.push(e));
          if (!parser) return [`no parser for ${kind}`];
          feedChunks(chunks, parser);
          const p = [...parserInternalErrors(whole.events, whole.warnings), ...parserInternalErrors(streamed, [])];
          whole.events.forEach((e, k) => {
            for (const q of eventProblems(e)) if (p.length < 5) p.push(`event ${k}: ${q}`);
          });
          if (stableJson(whole.events) !== stableJson(streamed)) p.push(`chunked parse differs from the whole parse (${streamed.length} vs ${whole.events.length} events)`);
          stats.real += whole.events.filter((e) => e.kind === OWN_KIND_EVENT[kind]).length;
          return p;
        },
      };
    },
  };
}
