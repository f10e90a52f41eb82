import type { ApiClient } from '../../shared/api/contract';
import { browserClient, takeToken } from './browser';
import { electronClient, preloadBridge } from './electron';

export type Transport = 'electron' | 'browser';

/**
 * Choose the transport: inside the desktop app the preload has put `window.casefile` there;
 * otherwise this page was served by `casefile serve` and carries a token.
 */
export function createClient(): { client: ApiClient; transport: Transport } | { error: string } {
  const bridge = preloadBridge();
  if (bridge) return { client: electronClient(bridge), transport: 'electron' };
  const token = takeToken();
  if (!token) {
    return { error: 'No access token. Open the URL that `casefile serve` printed (it ends with ?token=...).' };
  }
  return { client: browserClient(token), transport: 'browser' };
}
