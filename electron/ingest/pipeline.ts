/**
 * Ingest over two cores: a worker thread parses (decode, split, parse, lay out rows) while the owning thread
 * inserts, inside its one SQLite transaction per artifact. The owner stays synchronous (better-sqlite3 and the
 * transaction are): it waits for the worker's messages with Atomics.wait on a shared counter and takes them
 * with receiveMessageOnPort, never through its event loop. The worker is started once and kept (unref'd) for
 * later ingests: it costs ~150 ms to start, so only artifacts of PIPELINE_MIN_BYTES or more use it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { EventBulkSink } from '../store/store';
import type { FromParser, ParseJob, ToParser } from './parse-worker';

/** Artifacts at least this large are parsed in the pipeline worker (below, a cold start costs more than it saves). */
export const PIPELINE_MIN_BYTES = 8 << 20;
/** Chunks in flight to the worker: enough to keep it busy, few enough to bound memory on a 1 GB artifact. */
const WINDOW = 3;
/** The worker must answer within this long (a 1 MiB chunk parses in milliseconds); then the ingest fails. */
const STALL_MS = 60_000;
/** Waiting for a cold worker to load; past it, the ingest parses inline instead. */
const START_MS = 15_000;

interface ParsePool {
  readonly worker: Worker;
  readonly toWorker: MessagePort;
  readonly fromWorker: MessagePort;
  readonly signal: Int32Array;
  ready: boolean;
  nextId: number;
}

let pool: ParsePool | undefined;
let unavailable = false;

/** Under tsx/vitest the worker is TypeScript; in the bundled desktop build it is dist-electron/ingest-worker.js. */
export function ingestWorkerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./worker.ts', import.meta.url) : new URL('./ingest-worker.js', import.meta.url);
}

function startPool(): ParsePool | undefined {
  if (unavailable) return undefined;
  const url = ingestWorkerUrl();
  if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
    unavailable = true;
    return undefined;
  }
  const a = new MessageChannel();
  const b = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(url, {
    workerData: { mode: 'parse', toWorker: a.port2, fromWorker: b.port2, signal },
    transferList: [a.port2, b.port2],
    execArgv: url.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [],
  });
  // The process may exit while the worker idles; a crash of the worker surfaces as a stall in the owner.
  worker.unref();
  a.port1.unref();
  b.port1.unref();
  worker.on('error', () => {
    if (pool?.worker === worker) pool = undefined;
  });
  worker.on('exit', () => {
    if (pool?.worker === worker) pool = undefined;
  });
  return { worker, toWorker: a.port1, fromWorker: b.port1, signal, ready: false, nextId: 1 };
}

/** Stop the pipeline worker (tests, shutdown). */
export async function stopParseWorker(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await p.worker.terminate();
}

function receive(p: ParsePool, timeoutMs: number): FromParser | undefined {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = Atomics.load(p.signal, 0);
    const m = receiveMessageOnPort(p.fromWorker);
    if (m) return m.message as FromParser;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    // Returns at once if the worker posted since `seen` was read (no lost wake-up).
    Atomics.wait(p.signal, 0, seen, Math.min(left, 1000));
  }
}

export interface PipelineInput {
  readonly job: Omit<ParseJob, 'id'>;
  readonly chunks: Iterator<Uint8Array>;
  readonly bulk: EventBulkSink;
  readonly onProgress?: ((done: number) => void) | undefined;
}

/**
 * Parse `chunks` in the worker, handing rows to `bulk` as they come. Returns undefined when no worker could
 * be started (the caller parses inline); throws when the worker fails mid-way (the caller's transaction
 * then rolls back).
 */
export function parseInWorker(input: PipelineInput): { cut: number; failed?: string | undefined } | undefined {
  pool ??= startPool();
  const p = pool;
  if (!p) return undefined;
  if (!p.ready) {
    const m = receive(p, START_MS);
    if (m?.type !== 'ready') {
      pool = undefined;
      void p.worker.terminate();
      return undefined;
    }
    p.ready = true;
  }
  const id = p.nextId++;
  const send = (m: ToParser, transfer?: ArrayBuffer[]): void => p.toWorker.postMessage(m, transfer ?? []);
  send({ type: 'job', job: { ...input.job, id } });
  let inFlight = 0;
  let ended = false;
  let done = 0;
  const pump = (): void => {
    while (!ended && inFlight < WINDOW) {
      const n = input.chunks.next();
      if (n.done) {
        send({ type: 'end', id });
        ended = true;
        return;
      }
      // A copy the worker owns (store chunks are views into SQLite's result buffers, not transferable).
      const copy = new Uint8Array(n.value);
      send({ type: 'chunk', id, bytes: copy }, [copy.buffer as ArrayBuffer]);
      inFlight++;
    }
  };
  try {
    pump();
    for (;;) {
      const m = receive(p, STALL_MS);
      if (!m) throw new Error(`ingest: the parse worker did not answer for ${STALL_MS / 1000} s`);
      if (m.type === 'ready') continue;
      if (m.id !== id) continue; // a late message of an earlier, abandoned job
      switch (m.type) {
        case 'rows':
          for (const b of m.batches) input.bulk.rows(b);
          break;
        case 'ack':
          inFlight--;
          done += m.bytes;
          input.onProgress?.(done);
          pump();
          break;
        case 'done':
          input.bulk.lanes(m.lanes);
          return { cut: m.cut, failed: m.failed };
        case 'error':
          throw new Error(`ingest: parse worker: ${m.message}`);
        default: {
          const never: never = m;
          throw new Error(`ingest: unexpected parse worker message ${JSON.stringify(never)}`);
        }
      }
    }
  } catch (e) {
    send({ type: 'cancel', id });
    if (e instanceof Error && e.message.includes('did not answer')) {
      // A stalled worker is not reused.
      if (pool === p) pool = undefined;
      void p.worker.terminate();
    }
    throw e;
  }
}
