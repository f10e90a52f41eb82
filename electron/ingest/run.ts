import { Worker } from 'node:worker_threads';
import type { Store } from '../store/store';
import { ingestArtifact, type IngestResult } from './ingest';
import type { IngestWorkerInput, IngestWorkerMessage } from './worker';

/** Artifacts smaller than this are parsed inline (a worker costs ~100 ms to start). */
export const WORKER_THRESHOLD_BYTES = 4 << 20;

function workerUrl(): URL {
  // Under tsx/vitest this module is TypeScript; in the bundled desktop build the worker is dist-electron/ingest-worker.js.
  return import.meta.url.endsWith('.ts') ? new URL('./worker.ts', import.meta.url) : new URL('./ingest-worker.js', import.meta.url);
}

/**
 * Parse an artifact into events: inline when small or when the store is in memory, otherwise in a worker
 * thread with its own connection so the caller's event loop stays responsive during a 1 GB ingest.
 */
export async function ingest(
  store: Store,
  artifactId: number,
  opts: { dbFile?: string | undefined; kind?: string; bootTimeNs?: bigint; onProgress?: (done: number, total: number) => void; forceWorker?: boolean } = {},
): Promise<IngestResult> {
  const art = store.getArtifact(artifactId);
  if (!art) throw new Error(`artifact ${artifactId} not found`);
  if (!opts.dbFile || (!opts.forceWorker && art.size < WORKER_THRESHOLD_BYTES)) {
    return ingestArtifact(store, artifactId, opts);
  }
  const url = workerUrl();
  const input: IngestWorkerInput = { dbFile: opts.dbFile, artifactId, kind: opts.kind, bootTimeNs: opts.bootTimeNs?.toString() };
  const msg = await new Promise<IngestWorkerMessage>((resolve, reject) => {
    const w = new Worker(url, { workerData: input, execArgv: url.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [] });
    let final: IngestWorkerMessage | undefined;
    w.on('message', (m: IngestWorkerMessage) => {
      if (m.type === 'progress') opts.onProgress?.(m.done, m.total);
      else final = m;
    });
    w.on('error', reject);
    w.on('exit', (code) => (final ? resolve(final) : reject(new Error(`ingest worker exited with code ${code} before finishing`))));
  });
  if (msg.type === 'error') throw new Error(msg.message);
  if (msg.type !== 'done') throw new Error('ingest worker sent no result');
  return { artifactId, kind: msg.kind, eventCount: msg.eventCount, warnings: msg.warnings, status: msg.status };
}
