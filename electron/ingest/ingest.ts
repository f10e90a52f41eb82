import type { ParsedEvent } from '../../shared/model/event';
import type { ArtifactKind, ParseContext } from '../../shared/parsers/types';
import { ARTIFACT_KINDS } from '../../shared/parsers/types';
import { createTextParser, detectTextKind } from '../../shared/parsers';
import { createCaptureDecoder } from '../../shared/capture/api';
import type { Store } from '../store/store';
import { LineFeeder, MAX_LINE } from './lines';
import { PIPELINE_MIN_BYTES, parseInWorker } from './pipeline';
import { gunzipChunks, gunzipHead } from './gunzip';

/** Text artifacts up to this size are also indexed whole for full-text search. */
const FTS_BODY_MAX = 32 << 20;

export function isArtifactKind(k: string): k is ArtifactKind {
  return (ARTIFACT_KINDS as readonly string[]).includes(k);
}

/** Capture formats are recognised by their first bytes, never by file name. */
export function sniffBinaryKind(head: Uint8Array): 'pcap' | 'gzip' | undefined {
  if (head.length < 4) return undefined;
  const m = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  switch (m) {
    case 0xa1b2c3d4:
    case 0xd4c3b2a1:
    case 0xa1b23c4d:
    case 0x4d3cb2a1:
    case 0x0a0d0d0a:
      return 'pcap';
    default:
      return head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : undefined;
  }
}

/** Decide an artifact's kind from its content. */
export function detectKind(bytes: Uint8Array): ArtifactKind {
  const b = sniffBinaryKind(bytes);
  if (b === 'pcap') return 'pcap';
  if (b === 'gzip') {
    // Only the first bytes are decompressed (a cut stream is fine, a gzip bomb cannot blow up memory).
    const inner = gunzipHead(bytes, 64);
    return inner !== undefined && sniffBinaryKind(inner) === 'pcap' ? 'pcap' : 'binary';
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64 * 1024));
  const nul = text.indexOf('\u0000');
  if (nul !== -1 && nul < 4096) return 'binary';
  const head = text.split(/\r?\n/).slice(0, 200);
  return detectTextKind(head);
}

export interface IngestResult {
  readonly artifactId: number;
  readonly kind: string;
  readonly eventCount: number;
  readonly warnings: readonly string[];
  readonly status: string;
  /** Parsed in the pipeline worker while this thread inserted (false: parsed inline). */
  readonly pipelined?: boolean;
}

/**
 * Parse one stored artifact into events. All of an artifact's events are written in one transaction:
 * a crash leaves either the previous state or the complete new one, never half.
 */
export function ingestArtifact(
  store: Store,
  artifactId: number,
  opts: {
    kind?: string | undefined;
    bootTimeNs?: bigint | undefined;
    onProgress?: ((done: number, total: number) => void) | undefined;
    /**
     * Parse in the pipeline worker while this thread inserts. Default: on for text artifacts of PIPELINE_MIN_BYTES
     * or more (measured on 500k-line syslog and strace files, 2 cores: 13–17% less time with the second core free;
     * an earlier measurement with both cores busy showed no gain), unless CASEFILE_INGEST_PIPELINE=0.
     */
    pipeline?: boolean | undefined;
  } = {},
): IngestResult {
  const art = store.getArtifact(artifactId);
  if (!art) throw new Error(`artifact ${artifactId} not found`);
  let kind = opts.kind && opts.kind !== 'auto' ? opts.kind : art.kind;
  if (kind === 'auto' || !isArtifactKind(kind)) {
    kind = detectKind(store.readArtifact(artifactId, 256 * 1024));
    store.setArtifactKind(artifactId, kind);
  } else if (kind !== art.kind) {
    store.setArtifactKind(artifactId, kind);
  }
  const host = art.hostId !== undefined ? store.getHost(art.hostId) : undefined;
  const ctx: ParseContext = {
    bootTimeNs: opts.bootTimeNs ?? art.bootTimeNs ?? host?.bootTimeNs,
    collectedAtNs: art.endedNs ?? art.startedNs,
    host: host?.name,
  };

  if (kind === 'text' || kind === 'binary') {
    const body = kind === 'text' && art.size <= FTS_BODY_MAX ? store.readArtifact(artifactId).toString('utf8') : undefined;
    const r = store.ingestEvents(artifactId, () => ({ warnings: [] }), { ftsBody: body });
    store.markUnparsed(artifactId, 'unparsed');
    return { artifactId, kind, eventCount: r.eventCount, warnings: [], status: 'unparsed' };
  }

  if (kind === 'pcap') {
    const r = store.ingestEvents(artifactId, (insert) => {
      const warnings: string[] = [];
      const dec = createCaptureDecoder({}, (e: ParsedEvent) => insert(e));
      const first = store.readArtifact(artifactId, 4);
      // Progress counts stored (compressed) bytes consumed.
      const stored = function* (): Generator<Uint8Array> {
        let done = 0;
        for (const c of store.artifactChunks(artifactId)) {
          yield c;
          done += c.length;
          opts.onProgress?.(done, art.size);
        }
      };
      // A gzip capture is decompressed as it streams (memory: one chunk, not the whole capture).
      const chunks =
        sniffBinaryKind(first) === 'gzip'
          ? gunzipChunks(stored(), (p) =>
              warnings.push(p.kind === 'truncated' ? 'gzip stream is truncated: decoded the part that was readable' : `gzip stream is corrupt (${p.message}): decoded the part before it`),
            )
          : stored();
      for (const c of chunks) dec.push(c);
      const summary = dec.end();
      warnings.push(...summaryWarnings(summary));
      return { warnings };
    });
    return { artifactId, kind, eventCount: r.eventCount, warnings: r.warnings, status: r.warnings.length ? 'partial' : 'parsed' };
  }

  const collectText = art.size <= FTS_BODY_MAX;
  const usePipeline = opts.pipeline ?? (art.size >= PIPELINE_MIN_BYTES && process.env.CASEFILE_INGEST_PIPELINE !== '0');
  let bodyParts: string[] | undefined;
  let pipelined = false;
  // One outer transaction for the events and the artifact's full-text body (the events' own transaction nests
  // as a SAVEPOINT): a crash between the two used to leave the artifact parsed but missing from artifact search.
  const r = store.db.transaction(() => {
    const res = store.ingestEvents(
      artifactId,
      (insert, bulk) => {
        const warnings: string[] = [];
        let cut = 0;
        const piped = usePipeline
          ? parseInWorker({
              job: {
                kind: kind as ArtifactKind,
                bootTimeNs: ctx.bootTimeNs?.toString(),
                collectedAtNs: ctx.collectedAtNs?.toString(),
                host: ctx.host,
                caseId: art.caseId,
                artifactId,
                hostId: art.hostId ?? null,
              },
              chunks: store.artifactChunks(artifactId),
              bulk,
              onProgress: (done) => opts.onProgress?.(done, art.size),
            })
          : undefined;
        if (piped) {
          pipelined = true;
          if (piped.failed) return { warnings: [piped.failed], failed: true };
          cut = piped.cut;
        } else {
          const parser = createTextParser(kind as ArtifactKind, ctx, (e) => insert(e));
          if (!parser) return { warnings: [`no parser for kind ${kind}`], failed: true };
          const dec = new TextDecoder('utf-8', { fatal: false });
          const feeder = new LineFeeder(parser);
          const parts: string[] = [];
          let done = 0;
          for (const c of store.artifactChunks(artifactId)) {
            const s = dec.decode(c, { stream: true });
            if (collectText) parts.push(s);
            feeder.push(s);
            done += c.length;
            opts.onProgress?.(done, art.size);
          }
          const tail = dec.decode();
          if (collectText) parts.push(tail);
          feeder.end(tail);
          cut = feeder.cut;
          bodyParts = parts;
        }
        if (cut > 0) warnings.push(`${cut} line(s) longer than ${MAX_LINE} bytes were cut`);
        if (art.invalidUtf8 > 0) warnings.push(`${art.invalidUtf8} invalid UTF-8 sequence(s) shown as U+FFFD; the stored bytes are unchanged`);
        if (!art.complete) warnings.push('the artifact is incomplete (collection was interrupted): events cover only the bytes received');
        return { warnings };
      },
      // The FTS body is computed inside the same pass; it is written below, in the same outer transaction.
      {},
    );
    // The whole text is indexed only where events do not already cover it: a parse that was partial or
    // failed keeps every line searchable; a clean parse is searched through its events (indexing the same
    // text twice cost a third of the ingest time).
    store.db.prepare('DELETE FROM artifacts_fts WHERE rowid = ?').run(artifactId);
    if (collectText && (res.warnings.length > 0 || res.eventCount === 0)) {
      // The pipeline does not keep the text (it is rarely needed): decode it again, the same way, when it is.
      const body = bodyParts ? bodyParts.join('') : new TextDecoder('utf-8', { fatal: false }).decode(store.readArtifact(artifactId));
      store.db.prepare('INSERT INTO artifacts_fts (rowid, name, body) VALUES (?, ?, ?)').run(artifactId, art.name, body);
    }
    return res;
  })();
  const status = store.getArtifact(artifactId)!.parseStatus;
  return { artifactId, kind, eventCount: r.eventCount, warnings: r.warnings, status, pipelined };
}


function summaryWarnings(summary: unknown): string[] {
  if (summary && typeof summary === 'object' && 'warnings' in summary) {
    const w = (summary as { warnings: unknown }).warnings;
    if (Array.isArray(w)) return w.map(String);
  }
  return [];
}
