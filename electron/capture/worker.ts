/**
 * worker_thread entry: decodes one capture file off the main thread and posts events in batches.
 * Messages to the parent: { type: 'events', events } ... then { type: 'done', summary } or { type: 'error', message }.
 * ParsedEvent carries bigint fields, which structured clone transfers as they are.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ParsedEvent } from '../../shared/model/event';
import { decodeCaptureFile } from './file';

export interface CaptureWorkerInput {
  readonly path: string;
  readonly batchSize?: number;
}

export type CaptureWorkerMessage =
  | { readonly type: 'events'; readonly events: ParsedEvent[] }
  | { readonly type: 'done'; readonly summary: import('../../shared/rpc/types').CaptureSummary }
  | { readonly type: 'error'; readonly message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const input = workerData as CaptureWorkerInput;
  const size = input.batchSize ?? 2000;
  let batch: ParsedEvent[] = [];
  try {
    const summary = await decodeCaptureFile(input.path, (e) => {
      batch.push(e);
      if (batch.length >= size) {
        port.postMessage({ type: 'events', events: batch } satisfies CaptureWorkerMessage);
        batch = [];
      }
    });
    if (batch.length > 0) port.postMessage({ type: 'events', events: batch } satisfies CaptureWorkerMessage);
    port.postMessage({ type: 'done', summary } satisfies CaptureWorkerMessage);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies CaptureWorkerMessage);
  }
}

void main();
