import type { ApiClient } from '../../shared/api/contract';

/**
 * Wraps a client to count calls in flight, so the shell can show a progress bar for slow work
 * (a run start, an import, an export) without every view wiring its own spinner.
 */
export function withBusy(inner: ApiClient, onChange: (inFlight: number) => void): ApiClient {
  let n = 0;
  return {
    async call(method, input) {
      onChange(++n);
      try {
        return await inner.call(method, input);
      } finally {
        onChange(--n);
      }
    },
    on: (event, handler) => inner.on(event, handler),
  };
}
