/**
 * The desktop window's security settings, kept in plain Node (no `electron` import) so tests can check them
 * against Electron's security checklist without the Electron binary.
 * https://www.electronjs.org/docs/latest/tutorial/security
 */
export const WEB_PREFERENCES = {
  contextIsolation: true, // checklist 3
  sandbox: true, // checklist 4
  nodeIntegration: false, // checklist 2
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true, // checklist 6
  allowRunningInsecureContent: false,
  experimentalFeatures: false, // checklist 9
  enableBlinkFeatures: undefined, // checklist 10
  webviewTag: false, // checklist 12
  spellcheck: false,
  navigateOnDragDrop: false,
} as const;

/** Checklist 7: a strict CSP (Monaco needs blob: workers and inline styles; no eval, no remote code). */
export const DESKTOP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'";

/** The app's own pages are loaded from this custom scheme, never from http(s) or file:// of arbitrary paths. */
export const APP_SCHEME = 'casefile';
export const APP_ORIGIN = `${APP_SCHEME}://app`;

/** Checklist 13/14: the renderer may never navigate away from the app or open windows. */
export function isAllowedNavigation(url: string): boolean {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** Checklist 17: only the app's own top frame may call the API. */
export function isTrustedSender(frame: { url: string; parent: unknown } | null | undefined, mainFrame: unknown): boolean {
  if (!frame || frame !== mainFrame || frame.parent !== null) return false;
  return isAllowedNavigation(frame.url);
}

/** Links in artifacts are never opened by the app (checklist 15: no shell.openExternal with untrusted input). */
export const OPEN_EXTERNAL_ALLOWED = false;
