/**
 * Desktop entry: the only file besides preload.ts that imports `electron`. Everything it serves is the
 * plain-Node Backend also used by the CLI and the browser mode.
 */
import { app, BrowserWindow, ipcMain, protocol, session, net, dialog, safeStorage, type WebContents } from 'electron';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { SecretVault } from './runner/secrets';
import { Backend } from './api/backend';
import { openDb } from './store/db';
import { METHODS } from '../shared/api/contract';
import { APP_ORIGIN, APP_SCHEME, DESKTOP_CSP, WEB_PREFERENCES, isAllowedNavigation, isTrustedSender } from './security';
import { safeStaticPath } from './server/server';

const here = dirname(fileURLToPath(import.meta.url));
const rendererDir = join(here, '..', 'dist', 'renderer');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let backend: Backend | undefined;
let win: BrowserWindow | undefined;

function guard(contents: WebContents): void {
  contents.on('will-navigate', (e, url) => {
    if (!isAllowedNavigation(url)) e.preventDefault();
  });
  contents.on('will-redirect', (e, url) => {
    if (!isAllowedNavigation(url)) e.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

app.on('web-contents-created', (_e, contents) => guard(contents));

app.whenReady().then(() => {
  const dataDir = process.env.CASEFILE_HOME ?? app.getPath('userData');
  mkdirSync(dataDir, { recursive: true });
  const dbFile = join(dataDir, 'casefile.db');
  backend = new Backend({ db: openDb(dbFile), dbFile, playbookDir: join(here, '..', 'playbooks'), vault: safeStorageVault(join(dataDir, 'secrets.bin')) });
  // Artifacts a killed previous run left half-done are parsed again or reported, never left 'pending' forever.
  void backend.recoverInterrupted().catch((e: unknown) => console.error(`casefile: recovering interrupted ingests failed: ${e instanceof Error ? e.message : String(e)}`));

  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP] } });
  });
  protocol.handle(APP_SCHEME, (req) => {
    const u = new URL(req.url);
    const p = u.pathname === '/' ? join(rendererDir, 'index.html') : safeStaticPath(rendererDir, u.pathname);
    if (!p) return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(p).href);
  });

  win = new BrowserWindow({ width: 1400, height: 900, title: 'Casefile', webPreferences: { ...WEB_PREFERENCES, preload: join(here, 'preload.cjs') } });
  const mainFrame = () => win?.webContents.mainFrame;

  // One handler per API method; each checks the sender frame and lets the Backend parse the input with zod.
  for (const m of METHODS) {
    ipcMain.handle(`cf:${m}`, async (event, input: unknown) => {
      if (!isTrustedSender(event.senderFrame as unknown as { url: string; parent: unknown }, mainFrame())) throw new Error('refused: not the app window');
      return backend!.call(m, input);
    });
  }
  ipcMain.handle('cf:desktop.savePdf', async (event, caseId: unknown) => {
    if (!isTrustedSender(event.senderFrame as unknown as { url: string; parent: unknown }, mainFrame())) throw new Error('refused: not the app window');
    if (typeof caseId !== 'number' || !Number.isInteger(caseId)) throw new Error('caseId must be an integer');
    const { content, fileName } = (await backend!.call('export.report', { caseId, format: 'html' })) as { content: string; fileName: string };
    // Render the self-contained report (no scripts) in a hidden, sandboxed window and print it.
    const pdfWin = new BrowserWindow({ show: false, webPreferences: { ...WEB_PREFERENCES, javascript: false } });
    await pdfWin.loadURL(`data:text/html;charset=utf-8,${encodeURIComponent(content)}`);
    const pdf = await pdfWin.webContents.printToPDF({ printBackground: true });
    pdfWin.destroy();
    const r = await dialog.showSaveDialog(win!, { defaultPath: fileName.replace(/\.html$/, '.pdf') });
    if (r.canceled || !r.filePath) return { saved: false };
    writeFileSync(r.filePath, pdf);
    return { saved: true, path: r.filePath };
  });
  backend.onEvent((event, payload) => win?.webContents.send('cf:event', event, payload));
  void win.loadURL(`${APP_ORIGIN}/`);
});

/**
 * Secrets the user explicitly asked to remember, encrypted with the OS keychain through safeStorage, in a file
 * of their own (never the case database). When the OS offers no encryption, nothing is remembered.
 */
function safeStorageVault(file: string): SecretVault | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  const load = (): Record<string, string> => {
    if (!existsSync(file)) return {};
    try {
      return JSON.parse(safeStorage.decryptString(readFileSync(file))) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    get: (key) => load()[key],
    set: (key, value) => writeFileSync(file, safeStorage.encryptString(JSON.stringify({ ...load(), [key]: value })), { mode: 0o600 }),
  };
}

app.on('window-all-closed', () => {
  void backend?.dispose();
  app.quit();
});
