import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METHODS, EVENT_NAMES } from '../../shared/api/contract';
import { DESKTOP_CSP, WEB_PREFERENCES, isAllowedNavigation, isTrustedSender, APP_ORIGIN } from '../../electron/security';

/**
 * Electron's security checklist (electronjs.org/docs/latest/tutorial/security) as tests.
 * MOCK, and why: the Electron binary cannot be downloaded on these machines, so `electron` cannot be loaded
 * for real. The real electron/main.ts and electron/preload.ts are loaded against a recording stand-in for
 * the `electron` module that captures what they register (window options, IPC handlers, navigation and
 * permission handlers, the preload's exposed API); the assertions are on that real code's behaviour.
 */
type Handler = (...a: unknown[]) => unknown;
const rec = {
  windows: [] as { opts: Record<string, unknown>; webContents: FakeContents }[],
  ipc: new Map<string, Handler>(),
  exposed: new Map<string, Record<string, unknown>>(),
  permission: undefined as undefined | Handler,
  headers: undefined as undefined | Handler,
  appHandlers: new Map<string, Handler>(),
  ready: undefined as undefined | (() => void),
  invoked: [] as [string, unknown][],
};
class FakeContents {
  handlers = new Map<string, Handler>();
  windowOpen: Handler | undefined;
  mainFrame = { url: `${APP_ORIGIN}/`, parent: null };
  on(ev: string, fn: Handler) {
    this.handlers.set(ev, fn);
    return this;
  }
  setWindowOpenHandler(fn: Handler) {
    this.windowOpen = fn;
  }
  send() {}
}

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = new FakeContents();
    constructor(opts: Record<string, unknown>) {
      rec.windows.push({ opts, webContents: this.webContents });
      rec.appHandlers.get('web-contents-created')?.({}, this.webContents);
    }
    loadURL() {
      return Promise.resolve();
    }
  }
  return {
    app: {
      whenReady: () => new Promise<void>((r) => (rec.ready = r)),
      on: (ev: string, fn: Handler) => rec.appHandlers.set(ev, fn),
      getPath: () => process.env.CASEFILE_HOME,
      quit: () => {},
    },
    BrowserWindow,
    ipcMain: { handle: (ch: string, fn: Handler) => rec.ipc.set(ch, fn) },
    protocol: { registerSchemesAsPrivileged: () => {}, handle: () => {} },
    session: { defaultSession: { setPermissionRequestHandler: (fn: Handler) => (rec.permission = fn), webRequest: { onHeadersReceived: (fn: Handler) => (rec.headers = fn) } } },
    net: { fetch: () => {} },
    safeStorage: { isEncryptionAvailable: () => false, encryptString: () => Buffer.alloc(0), decryptString: () => '' },
    dialog: {},
    contextBridge: { exposeInMainWorld: (k: string, v: Record<string, unknown>) => rec.exposed.set(k, v) },
    ipcRenderer: { invoke: (ch: string, input: unknown) => (rec.invoked.push([ch, input]), Promise.resolve()), on: () => {}, off: () => {} },
  };
});

let home: string;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cf-electron-'));
  process.env.CASEFILE_HOME = home;
  await import('../../electron/main');
  rec.ready!();
  await new Promise((r) => setTimeout(r, 50));
  await import('../../electron/preload');
});
afterAll(() => {
  rec.appHandlers.get('window-all-closed')?.();
  rmSync(home, { recursive: true, force: true });
});

describe('Electron security checklist', () => {
  it('window: context isolation, sandbox, no Node integration, web security on (checklist 2-4, 6, 9, 10, 12)', () => {
    expect(rec.windows.length).toBe(1);
    const wp = rec.windows[0]!.opts.webPreferences as Record<string, unknown>;
    expect(wp).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, experimentalFeatures: false, webviewTag: false });
    expect(wp.enableBlinkFeatures).toBeUndefined();
    expect(WEB_PREFERENCES.sandbox).toBe(true);
  });

  it('CSP: no eval, no inline script, no remote code (checklist 7)', () => {
    expect(DESKTOP_CSP).toMatch(/default-src 'self'/);
    expect(DESKTOP_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(DESKTOP_CSP).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|script-src[^;]*https?:/);
    expect(DESKTOP_CSP).toMatch(/object-src 'none'/);
    let out: Record<string, unknown> | undefined;
    rec.headers!({ responseHeaders: { a: ['b'] } }, (r: Record<string, unknown>) => (out = r));
    expect((out!.responseHeaders as Record<string, string[]>)['Content-Security-Policy']).toEqual([DESKTOP_CSP]);
  });

  it('permissions requested by content are denied (checklist 5)', () => {
    let granted: unknown;
    rec.permission!({}, 'media', (ok: boolean) => (granted = ok));
    expect(granted).toBe(false);
  });

  it('navigation away and new windows are refused (checklist 13, 14)', () => {
    const wc = rec.windows[0]!.webContents;
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,x', 'casefile://other/']) {
      let prevented = false;
      wc.handlers.get('will-navigate')!({ preventDefault: () => (prevented = true) }, url);
      expect(prevented, url).toBe(true);
      expect(isAllowedNavigation(url)).toBe(false);
    }
    let ok = true;
    wc.handlers.get('will-navigate')!({ preventDefault: () => (ok = false) }, `${APP_ORIGIN}/index.html`);
    expect(ok).toBe(true);
    expect(wc.windowOpen!({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
    let webview = false;
    wc.handlers.get('will-attach-webview')!({ preventDefault: () => (webview = true) });
    expect(webview).toBe(true);
  });

  it('IPC: one handler per API method, refusing other frames and validating every input (checklist 17)', async () => {
    expect([...rec.ipc.keys()].filter((k) => k.startsWith('cf:') && k !== 'cf:desktop.savePdf').sort()).toEqual(METHODS.map((m) => `cf:${m}`).sort());
    const main = rec.windows[0]!.webContents.mainFrame;
    const handler = rec.ipc.get('cf:cases.create')!;
    const sub = { url: `${APP_ORIGIN}/`, parent: main };
    await expect(Promise.resolve().then(() => handler({ senderFrame: sub }, { name: 'x' }))).rejects.toThrow(/refused/);
    await expect(Promise.resolve().then(() => handler({ senderFrame: { url: 'https://evil.example/', parent: null } }, { name: 'x' }))).rejects.toThrow(/refused/);
    await expect(Promise.resolve().then(() => handler({ senderFrame: main }, { name: { $gt: '' } }))).rejects.toThrow(/invalid input/);
    const created = (await handler({ senderFrame: main }, { name: 'desk' })) as { name: string };
    expect(created.name).toBe('desk');
    expect(isTrustedSender(null, main)).toBe(false);
    await expect(Promise.resolve().then(() => rec.ipc.get('cf:desktop.savePdf')!({ senderFrame: main }, 'not-a-number'))).rejects.toThrow(/integer/);
  });

  it('preload exposes one function per method and known events only, never ipcRenderer itself', () => {
    const api = rec.exposed.get('casefile')!;
    expect(Object.keys(api).sort()).toEqual(['api', 'on', 'savePdf']);
    expect(Object.keys(api.api as object).sort()).toEqual([...METHODS].sort());
    expect(() => (api.on as Handler)('ipc-message', () => {})).toThrow(/unknown event/);
    for (const e of EVENT_NAMES) expect(typeof (api.on as Handler)(e, () => {})).toBe('function');
    void (api.api as Record<string, Handler>)['cases.list']!({});
    expect(rec.invoked.at(-1)).toEqual(['cf:cases.list', {}]);
    expect(JSON.stringify(Object.values(api))).not.toMatch(/ipcRenderer/);
  });
});
