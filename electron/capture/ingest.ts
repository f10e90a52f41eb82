/**
 * Run the capture decoder in a worker_thread so the caller's event loop (Electron main, the server) stays
 * responsive while a large capture is ingested. Under plain Node (tests, CLI) the TypeScript worker is
 * loaded through tsx; a bundled build points `workerUrl` at the compiled worker instead.
 */
import { Worker } from 'node:worker_threads';
import type { ParsedEvent } from '../../shared/model/event';
import type { CaptureSummary } from '../../shared/rpc/types';
import type { CaptureWorkerInput, CaptureWorkerMessage } from './worker';

export interface IngestOptions {
  readonly batchSize?: number;
  /** Worker script; default: ./worker.ts next to this file (run with tsx). */
  readonly workerUrl?: URL;
  readonly signal?: AbortSignal;
}

export function decodeCaptureInWorker(path: string, onEvents: (batch: ParsedEvent[]) => void, opts: IngestOptions = {}): Promise<CaptureSummary> {
  const url = opts.workerUrl ?? new URL('./worker.ts', import.meta.url);
  const isTs = url.pathname.endsWith('.ts');
  const input: CaptureWorkerInput = { path, batchSize: opts.batchSize };
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: input, execArgv: isTs ? ['--import', 'tsx'] : [] });
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => {
      void worker.terminate();
      finish(() => reject(new Error('capture decoding aborted')));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: CaptureWorkerMessage) => {
      switch (m.type) {
        case 'events':
          onEvents(m.events);
          return;
        case 'done':
          finish(() => resolve(m.summary));
          void worker.terminate();
          return;
        case 'error':
          finish(() => reject(new Error(m.message)));
          void worker.terminate();
          return;
        default: {
          const never: never = m;
          void never;
        }
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`capture worker exited with code ${code}`))));
  });
}
