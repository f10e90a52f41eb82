import type { ApiClient, EventName, EventPayload, Input, Method, Output } from '../../shared/api/contract';
import { EVENT_NAMES } from '../../shared/api/contract';
import { ApiCallError } from './errors';
import { parseEventPayload, parseOutput } from './validate';

/** What electron/preload.ts exposes through contextBridge: one function per API method, plus event subscription. */
export interface PreloadBridge {
  readonly api: Readonly<Record<string, (input: unknown) => Promise<unknown>>>;
  on(event: string, handler: (payload: unknown) => void): () => void;
}

export function preloadBridge(): PreloadBridge | undefined {
  const w = window as unknown as { casefile?: unknown };
  const c = w.casefile;
  if (typeof c !== 'object' || c === null) return undefined;
  const b = c as { api?: unknown; on?: unknown };
  if (typeof b.api !== 'object' || b.api === null || typeof b.on !== 'function') return undefined;
  return c as PreloadBridge;
}

/** Electron IPC transport: the preload's typed facade. Inputs are checked by main; outputs are checked here. */
export function electronClient(bridge: PreloadBridge): ApiClient {
  return {
    async call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>> {
      const fn = bridge.api[method];
      if (typeof fn !== 'function') throw new ApiCallError(method, `the desktop bridge has no method ${method}`, 'missing-method');
      let raw: unknown;
      try {
        raw = await fn(input);
      } catch (e) {
        // Electron wraps main-side errors as "Error invoking remote method 'x': Error: message".
        const msg = e instanceof Error ? e.message.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '') : String(e);
        throw new ApiCallError(method, msg);
      }
      return parseOutput(method, raw);
    },
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
      if (!EVENT_NAMES.includes(event)) return () => undefined;
      return bridge.on(event, (raw) => {
        const p = parseEventPayload(event, raw);
        if (p) handler(p);
      });
    },
  };
}
