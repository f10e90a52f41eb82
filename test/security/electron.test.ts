import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API, METHODS, EVENT_NAMES } from '../../shared/api/contract';
import { Backend } from '../../electron/api/backend';
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
  protocols: new Map<string, Handler>(),
  fetched: [] as string[],
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
  printToPDF() {
    return Promise.resolve(Buffer.from('%PDF-1.4'));
  }
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
    destroy() {}
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
    protocol: { registerSchemesAsPrivileged: () => {}, handle: (scheme: string, fn: Handler) => rec.protocols.set(scheme, fn) },
    session: { defaultSession: { setPermissionRequestHandler: (fn: Handler) => (rec.permission = fn), webRequest: { onHeadersReceived: (fn: Handler) => (rec.headers = fn) } } },
    net: { fetch: (url: string) => (rec.fetched.push(url), Promise.resolve(new Response('file'))) },
    safeStorage: { isEncryptionAvailable: () => false, encryptString: () => Buffer.alloc(0), decryptString: () => '' },
    dialog: { showSaveDialog: () => Promise.resolve({ canceled: true }) },
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
    // A server redirect (will-redirect) is refused exactly like a navigation the page starts (will-navigate).
    for (const ev of ['will-navigate', 'will-redirect']) {
      expect(wc.handlers.get(ev), ev).toBeTypeOf('function');
      for (const url of ['https://evil.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,x', 'casefile://other/', 'casefile://app.evil.example/', 'http://app/', 'not a url']) {
        let prevented = false;
        wc.handlers.get(ev)!({ preventDefault: () => (prevented = true) }, url);
        expect(prevented, `${ev} ${url}`).toBe(true);
        expect(isAllowedNavigation(url)).toBe(false);
      }
      let ok = true;
      wc.handlers.get(ev)!({ preventDefault: () => (ok = false) }, `${APP_ORIGIN}/index.html`);
      expect(ok, ev).toBe(true);
    }
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

  it('IPC, every method of the contract: foreign senders refused before the backend, invalid input refused before the handler', async () => {
    const main = rec.windows[0]!.webContents.mainFrame;
    // The backend main.ts created, found through one trusted call; each of its handlers is wrapped to count calls.
    const callSpy = vi.spyOn(Backend.prototype, 'call');
    await rec.ipc.get('cf:cases.list')!({ senderFrame: main }, {});
    const backend = callSpy.mock.contexts[0] as Backend;
    expect(backend).toBeInstanceOf(Backend);
    const handlers = backend.handlers as unknown as Record<string, Handler>;
    const reached = new Map<string, number>();
    for (const m of METHODS) {
      const orig = handlers[m]!;
      expect(orig, m).toBeTypeOf('function');
      handlers[m] = (...a: unknown[]) => (reached.set(m, (reached.get(m) ?? 0) + 1), orig(...a));
    }
    try {
      callSpy.mockClear();
      const foreign = [
        { url: `${APP_ORIGIN}/`, parent: main }, // a subframe of the app
        { url: 'https://evil.example/', parent: null }, // a navigated-away top frame
        { url: `${APP_ORIGIN}/`, parent: null }, // looks like the app, but is not its main frame object
        null,
      ];
      for (const m of METHODS) {
        const h = rec.ipc.get(`cf:${m}`);
        expect(h, m).toBeTypeOf('function');
        for (const senderFrame of foreign) {
          await expect(Promise.resolve().then(() => h!({ senderFrame }, { caseId: 1 })), `${m} from ${JSON.stringify(senderFrame?.url)}`).rejects.toThrow(/refused/);
        }
        // Every declared field given an operator object ({ $gt: '' }: a Mongo-style injection, never a valid id, string or enum).
        const shape = Object.keys((API[m].input as unknown as { shape: Record<string, unknown> }).shape);
        const wrongFields = Object.fromEntries(shape.map((k) => [k, { $gt: '' }]));
        // (null/undefined stand for "no parameters", so they are not in this list.)
        const bads: unknown[] = ['x', 42, [], true, '{"caseId":1}', Number.NaN];
        if (shape.length > 0) bads.push(wrongFields);
        for (const bad of bads) {
          await expect(Promise.resolve().then(() => h!({ senderFrame: main }, bad)), `${m} with ${JSON.stringify(bad)}`).rejects.toThrow(/invalid input/);
        }
      }
      expect(callSpy.mock.calls.filter(([, input]) => input !== null && typeof input === 'object' && !Array.isArray(input) && (input as { caseId?: unknown }).caseId === 1)).toEqual([]); // foreign senders never reached the backend
      expect([...reached.entries()]).toEqual([]); // invalid input never reached a handler
    } finally {
      callSpy.mockRestore();
    }
  });

  it('the casefile:// protocol serves files of the renderer folder only (no traversal, encoded or absolute)', async () => {
    const handler = rec.protocols.get('casefile');
    expect(handler).toBeTypeOf('function');
    const rendererDir = resolve(fileURLToPath(new URL('../../dist/renderer', import.meta.url)));
    const get = async (url: string): Promise<{ status: number; fetched: string[] }> => {
      const before = rec.fetched.length;
      const r = (await handler!({ url })) as Response;
      return { status: r.status, fetched: rec.fetched.slice(before).map((u) => fileURLToPath(u)) };
    };
    const hostile = [
      'casefile://app/../../../../etc/passwd',
      'casefile://app/..%2f..%2f..%2f..%2fetc%2fpasswd',
      'casefile://app/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      'casefile://app/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      'casefile://app/%252e%252e%252fetc%252fpasswd',
      'casefile://app/..%5c..%5c..%5cetc%5cpasswd',
      'casefile://app//etc/passwd',
      'casefile://app/%2Fetc%2Fpasswd',
      'casefile://app/%2F%2Fetc%2Fpasswd',
      'casefile://app/index.html%00.png',
      'casefile://app/%00',
      'casefile://app/..%2frenderer-evil%2fx.js',
      'casefile://app/..%2f..%2fpackage.json',
      'casefile://app/..%2f..%2felectron%2fmain.ts',
      `casefile://app/${encodeURIComponent(join(rendererDir, '..', '..', 'package.json'))}`,
      'casefile://app/%',
    ];
    for (const url of hostile) {
      const r = await get(url);
      for (const f of r.fetched) expect(f === rendererDir || f.startsWith(rendererDir + sep), `${url} served ${f}`).toBe(true);
      expect(r.fetched.some((f) => /passwd|package\.json|main\.ts/.test(f)), url).toBe(false);
    }
    const ok = await get('casefile://app/');
    expect(ok.fetched).toEqual([join(rendererDir, 'index.html')]);
    expect((await get('casefile://app/..%2f..%2fpackage.json')).status).toBe(404);
  });

  it('every BrowserWindow the app creates, the hidden PDF window included, keeps the checklist settings', async () => {
    const main = rec.windows[0]!.webContents.mainFrame;
    const created = (await rec.ipc.get('cf:cases.create')!({ senderFrame: main }, { name: 'pdf' })) as { id: number };
    const before = rec.windows.length;
    expect(await rec.ipc.get('cf:desktop.savePdf')!({ senderFrame: main }, created.id)).toEqual({ saved: false });
    expect(rec.windows.length).toBe(before + 1); // the hidden window that prints the report
    expect(rec.windows.at(-1)!.opts.show).toBe(false);
    expect((rec.windows.at(-1)!.opts.webPreferences as Record<string, unknown>).javascript).toBe(false);
    for (const [i, w] of rec.windows.entries()) {
      const wp = w.opts.webPreferences as Record<string, unknown>;
      expect(wp, `window ${i}`).toMatchObject({ contextIsolation: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, sandbox: true, webviewTag: false, allowRunningInsecureContent: false });
      expect(wp.webSecurity, `window ${i}`).not.toBe(false);
      // The same navigation guards are installed on every window's contents.
      for (const ev of ['will-navigate', 'will-redirect', 'will-attach-webview']) expect(w.webContents.handlers.get(ev), `window ${i} ${ev}`).toBeTypeOf('function');
      expect(w.webContents.windowOpen?.({ url: 'https://evil.example' }), `window ${i}`).toEqual({ action: 'deny' });
    }
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
