/**
 * Run a task on many hosts with a concurrency limit; each host gets its own outcome, so one dead host
 * never hides the others' results (Promise.allSettled semantics, bounded).
 */
import type { HostSession } from './session';

export type HostOutcome<T> =
  | { readonly host: string; readonly index: number; readonly ok: true; readonly value: T; readonly durationMs: number }
  | { readonly host: string; readonly index: number; readonly ok: false; readonly error: Error; readonly durationMs: number };

export async function runOnHosts<T>(
  sessions: readonly HostSession[],
  task: (session: HostSession, index: number) => Promise<T>,
  opts: { readonly concurrency?: number; readonly onSettled?: (o: HostOutcome<T>) => void } = {},
): Promise<readonly HostOutcome<T>[]> {
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const results = new Array<HostOutcome<T>>(sessions.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      if (index >= sessions.length) return;
      const s = sessions[index]!;
      const t0 = performance.now();
      let o: HostOutcome<T>;
      try {
        o = { host: s.name, index, ok: true, value: await task(s, index), durationMs: performance.now() - t0 };
      } catch (e) {
        o = { host: s.name, index, ok: false, error: e instanceof Error ? e : new Error(String(e)), durationMs: performance.now() - t0 };
      }
      results[index] = o;
      opts.onSettled?.(o);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions.length) }, worker));
  return results;
}
