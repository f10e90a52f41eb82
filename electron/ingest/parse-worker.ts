/**
 * The parse side of the ingest pipeline (runs in a worker thread; see pipeline.ts for the owning side and the
 * protocol). Bytes come in as 1 MiB chunks; they are decoded, split into lines and parsed here, and each event
 * is laid out as bind values (eventRowParams) so the owning thread only runs INSERTs. Events cross as flat
 * arrays of EVENT_BATCH rows (a structured clone of primitives), several batches per message.
 */
import type { MessagePort } from 'node:worker_threads';
import { createTextParser } from '../../shared/parsers';
import type { ArtifactKind, ParseContext } from '../../shared/parsers/types';
import { EVENT_BATCH, EVENT_COLUMNS, LaneTally, eventRowParams, type LaneSummary } from '../store/store';
import { LineFeeder } from './lines';

export interface ParseJob {
  readonly id: number;
  readonly kind: ArtifactKind;
  /** Instants as decimal strings. */
  readonly bootTimeNs?: string | undefined;
  readonly collectedAtNs?: string | undefined;
  readonly host?: string | undefined;
  readonly caseId: number;
  readonly artifactId: number;
  readonly hostId: number | null;
}

export type ToParser =
  | { readonly type: 'job'; readonly job: ParseJob }
  | { readonly type: 'chunk'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'cancel'; readonly id: number };

export type FromParser =
  | { readonly type: 'ready' }
  | { readonly type: 'rows'; readonly id: number; readonly batches: readonly (readonly unknown[])[] }
  /** A chunk was parsed and its rows sent: the owner may send another. */
  | { readonly type: 'ack'; readonly id: number; readonly bytes: number }
  | { readonly type: 'done'; readonly id: number; readonly cut: number; readonly lanes: readonly LaneSummary[]; readonly failed?: string | undefined }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** Batches per message: fewer, larger messages (a message costs about as much as a few rows). */
const BATCHES_PER_MESSAGE = 16;

export function runParseWorker(inPort: MessagePort, outPort: MessagePort, signal: Int32Array): void {
  const post = (m: FromParser): void => {
    outPort.postMessage(m);
    // The owner blocks in Atomics.wait on this counter between messages (it cannot use its event loop: the
    // ingest is one synchronous SQLite transaction).
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  };
  const W = EVENT_COLUMNS.length;
  let cur:
    | { job: ParseJob; feeder: LineFeeder | undefined; dec: TextDecoder; buf: unknown[]; k: number; out: unknown[][]; lanes: LaneTally; failed?: string }
    | undefined;

  const flush = (final: boolean): void => {
    if (!cur) return;
    if (final && cur.k > 0) {
      cur.out.push(cur.buf.slice(0, cur.k));
      cur.k = 0;
    }
    if (cur.out.length > 0) {
      post({ type: 'rows', id: cur.job.id, batches: cur.out });
      cur.out = [];
    }
  };

  inPort.on('message', (m: ToParser) => {
    try {
      switch (m.type) {
        case 'job': {
          const job = m.job;
          const ctx: ParseContext = {
            bootTimeNs: job.bootTimeNs === undefined ? undefined : BigInt(job.bootTimeNs),
            collectedAtNs: job.collectedAtNs === undefined ? undefined : BigInt(job.collectedAtNs),
            host: job.host,
          };
          const state = { job, feeder: undefined as LineFeeder | undefined, dec: new TextDecoder('utf-8', { fatal: false }), buf: new Array<unknown>(EVENT_BATCH * W), k: 0, out: [] as unknown[][], lanes: new LaneTally(), failed: undefined as string | undefined };
          const parser = createTextParser(job.kind, ctx, (e) => {
            state.lanes.add(e.kind, e.ts);
            state.k = eventRowParams(state.buf, state.k, job.caseId, job.artifactId, job.hostId, e);
            if (state.k === state.buf.length) {
              state.out.push(state.buf);
              state.buf = new Array<unknown>(EVENT_BATCH * W);
              state.k = 0;
              if (state.out.length >= BATCHES_PER_MESSAGE) flush(false);
            }
          });
          if (parser) state.feeder = new LineFeeder(parser);
          else state.failed = `no parser for kind ${job.kind}`;
          cur = state;
          return;
        }
        case 'chunk': {
          if (!cur || cur.job.id !== m.id) return;
          cur.feeder?.push(cur.dec.decode(m.bytes, { stream: true }));
          flush(false);
          post({ type: 'ack', id: m.id, bytes: m.bytes.byteLength });
          return;
        }
        case 'end': {
          if (!cur || cur.job.id !== m.id) return;
          cur.feeder?.end(cur.dec.decode());
          flush(true);
          const done = cur;
          cur = undefined;
          post({ type: 'done', id: m.id, cut: done.feeder?.cut ?? 0, lanes: done.lanes.summary(), failed: done.failed });
          return;
        }
        case 'cancel':
          if (cur?.job.id === m.id) cur = undefined;
          return;
        default: {
          const never: never = m;
          return never;
        }
      }
    } catch (e) {
      const id = m.type === 'job' ? m.job.id : m.id;
      cur = undefined;
      post({ type: 'error', id, message: e instanceof Error ? e.message : String(e) });
    }
  });
  post({ type: 'ready' });
}
