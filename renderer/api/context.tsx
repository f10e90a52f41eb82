import { createContext, useContext, useEffect, useRef } from 'react';
import type { ApiClient, EventName, EventPayload } from '../../shared/api/contract';

export const ApiContext = createContext<ApiClient | undefined>(undefined);

export function useApi(): ApiClient {
  const c = useContext(ApiContext);
  if (!c) throw new Error('useApi outside ApiContext');
  return c;
}

/** Subscribe to a backend event for the lifetime of the component; the latest handler is always used. */
export function useApiEvent<E extends EventName>(event: E, handler: (p: EventPayload<E>) => void): void {
  const api = useApi();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => api.on(event, (p) => ref.current(p)), [api, event]);
}
