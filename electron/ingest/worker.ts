/**
 * Ingest worker, two roles. By default it parses one stored artifact and writes its events with its own SQLite connection, off the
 * caller's thread (Electron main, the browser-mode server), in one transaction. Progress is posted back.
 * With workerData.mode 'parse' it is the parse side of the in-transaction pipeline (parse-worker.ts).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDb } from '../store/db';
import { Store } from '../store/store';
import { ingestArtifact } from './ingest';
import { runParseWorker } from './parse-worker';

export interface IngestWorkerInput {
  readonly dbFile: string;
  readonly artifactId: number;
  readonly kind?: string;
  /** Decimal string (bigints do not cross postMessage as JSON). */
  readonly bootTimeNs?: string;
}

export type IngestWorkerMessage =
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | { readonly type: 'done'; readonly eventCount: number; readonly warnings: readonly string[]; readonly kind: string; readonly status: string }
  | { readonly type: 'error'; readonly message: string };

/** workerData of the pipeline's parse worker (see pipeline.ts): the same entry file, another role. */
export interface ParseWorkerData {
  readonly mode: 'parse';
  readonly toWorker: MessagePort;
  readonly fromWorker: MessagePort;
  readonly signal: Int32Array;
}

const data = workerData as IngestWorkerInput | ParseWorkerData;
if ('mode' in data && data.mode === 'parse') runParseWorker(data.toWorker, data.fromWorker, data.signal);
else ingestInWorker(data as IngestWorkerInput);

function ingestInWorker(input: IngestWorkerInput): void {
  const db = openDb(input.dbFile);
  // Wait for a writer on the main thread rather than failing: this thread may block, the UI thread does not.
  db.pragma('busy_timeout = 60000');
  try {
    let last = 0;
    const r = ingestArtifact(new Store(db), input.artifactId, {
      kind: input.kind,
      bootTimeNs: input.bootTimeNs === undefined ? undefined : BigInt(input.bootTimeNs),
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - last >= 100 || done === total) {
          last = now;
          parentPort!.postMessage({ type: 'progress', done, total } satisfies IngestWorkerMessage);
        }
      },
    });
    parentPort!.postMessage({ type: 'done', eventCount: r.eventCount, warnings: r.warnings, kind: r.kind, status: r.status } satisfies IngestWorkerMessage);
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies IngestWorkerMessage);
  } finally {
    db.close();
  }
}
