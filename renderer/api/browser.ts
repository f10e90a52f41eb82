import type { ApiClient, EventName, EventPayload, Input, Method, Output } from '../../shared/api/contract';
import { EVENT_NAMES } from '../../shared/api/contract';
import { ApiCallError } from './errors';
import { errorFromBody, parseEventPayload, parseOutput } from './validate';

const TOKEN_KEY = 'casefile.token';

/**
 * The token `casefile serve` prints in its URL. Kept in sessionStorage (this tab only) and removed from the
 * address bar so it does not end up in screenshots, history or a shared link.
 */
export function takeToken(loc: Location = window.location, hist: History = window.history, storage: Storage = window.sessionStorage): string | undefined {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    hist.replaceState(hist.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY) ?? undefined;
}

type Handler = (payload: unknown) => void;

/** Browser-mode transport: POST /api/<method> with the token header; events over one WebSocket that reconnects. */
export function browserClient(token: string, origin: string = window.location.origin): ApiClient {
  const handlers = new Map<string, Set<Handler>>();
  let socket: WebSocket | undefined;
  let retry = 0;
  let closed = false;

  const wsUrl = (): string => {
    const u = new URL('/events', origin);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('token', token);
    return u.toString();
  };

  const connect = (): void => {
    if (closed || socket) return;
    const ws = new WebSocket(wsUrl());
    socket = ws;
    ws.onopen = () => {
      retry = 0;
    };
    ws.onmessage = (m: MessageEvent) => {
      if (typeof m.data !== 'string') return;
      let msg: unknown;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      if (typeof msg !== 'object' || msg === null) return;
      const { event, payload } = msg as { event?: unknown; payload?: unknown };
      if (typeof event !== 'string' || !EVENT_NAMES.includes(event as EventName)) return;
      for (const h of handlers.get(event) ?? []) h(payload);
    };
    ws.onclose = () => {
      socket = undefined;
      if (closed) return;
      // Back off 0.5 s, 1 s, 2 s ... up to 10 s; the server may be restarting.
      const delay = Math.min(10_000, 500 * 2 ** retry++);
      setTimeout(connect, delay);
    };
  };
  connect();
  window.addEventListener('beforeunload', () => {
    closed = true;
    socket?.close();
  });

  return {
    async call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>> {
      let res: Response;
      try {
        res = await fetch(new URL(`/api/${method}`, origin), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Casefile-Token': token },
          body: JSON.stringify(input ?? {}),
          credentials: 'omit',
          cache: 'no-store',
        });
      } catch (e) {
        throw new ApiCallError(method, `cannot reach the Casefile server: ${e instanceof Error ? e.message : String(e)}`, 'network');
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        throw new ApiCallError(method, `HTTP ${res.status}: the answer is not JSON`, String(res.status));
      }
      if (!res.ok) throw errorFromBody(method, res.status, body);
      return parseOutput(method, body);
    },
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
      const wrapped: Handler = (raw) => {
        const p = parseEventPayload(event, raw);
        if (p) handler(p);
      };
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      set.add(wrapped);
      return () => {
        set.delete(wrapped);
      };
    },
  };
}
