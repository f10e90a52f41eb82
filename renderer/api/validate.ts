import { API, ApiError, EVENTS, type EventName, type EventPayload, type Method, type Output } from '../../shared/api/contract';
import { ApiCallError } from './errors';

/**
 * Both transports hand raw JSON to these checks: the renderer trusts the contract's shapes, not the wire.
 * A backend answer that does not match the contract is reported as an error rather than cast.
 */
export function parseOutput<M extends Method>(method: M, raw: unknown): Output<M> {
  const r = API[method].output.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first ? `${first.path.join('.')}: ${first.message}` : 'invalid';
    throw new ApiCallError(method, `backend answer for ${method} does not match the contract (${where})`, 'contract');
  }
  return r.data as Output<M>;
}

export function parseEventPayload<E extends EventName>(event: E, raw: unknown): EventPayload<E> | undefined {
  const r = EVENTS[event].safeParse(raw);
  return r.success ? (r.data as EventPayload<E>) : undefined;
}

export function errorFromBody(method: string, status: number, body: unknown): ApiCallError {
  const r = ApiError.safeParse(body);
  if (r.success) return new ApiCallError(method, r.data.error, r.data.code);
  return new ApiCallError(method, `HTTP ${status}`, String(status));
}
