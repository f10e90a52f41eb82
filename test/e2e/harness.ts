/**
 * End-to-end harness: the real renderer bundle, served by the real `casefile serve` (browser mode) with its
 * own data directory, driven by Debian's Chromium through playwright-core (never a downloaded browser).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import type { Input, Method, Output } from '../../shared/api/contract';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST_INDEX = path.join(ROOT, 'dist', 'renderer', 'index.html');
const BUILD_LOCK = path.join(ROOT, 'dist', '.renderer-build.lock');
const CHROMIUM = '/usr/bin/chromium';

/** Chromium flags from notes/toolchain.md: no sandbox in CI containers, and no traffic to anything but loopback. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function rendererIsStale(): boolean {
  if (!existsSync(DIST_INDEX)) return true;
  const built = statSync(DIST_INDEX).mtimeMs;
  const sources = Math.max(newestMtime(path.join(ROOT, 'renderer')), newestMtime(path.join(ROOT, 'shared')), statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs);
  return sources > built;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Build the renderer once if dist/renderer is missing or older than its sources. Test files run in parallel
 * workers, so the build is guarded by an exclusive lock file; a waiter just waits for the builder.
 */
export async function ensureRendererBuilt(): Promise<void> {
  if (!rendererIsStale()) return;
  mkdirSync(path.dirname(BUILD_LOCK), { recursive: true });
  let fd: number | undefined;
  const t0 = Date.now();
  while (fd === undefined) {
    try {
      fd = openSync(BUILD_LOCK, 'wx');
    } catch {
      // Someone else is building; a lock older than 5 minutes is from a crashed run.
      try {
        if (Date.now() - statSync(BUILD_LOCK).mtimeMs > 300_000) unlinkSync(BUILD_LOCK);
      } catch {
        /* gone already */
      }
      if (Date.now() - t0 > 300_000) throw new Error('timed out waiting for another renderer build');
      await sleep(250);
      if (!rendererIsStale()) return;
    }
  }
  try {
    if (!rendererIsStale()) return;
    const npx = path.join(path.dirname(process.execPath), 'npx');
    const r = spawnSync(existsSync(npx) ? npx : 'npx', ['vite', 'build', '--logLevel', 'warn'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      timeout: 240_000,
    });
    if (r.status !== 0) throw new Error(`vite build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  } finally {
    closeSync(fd);
    unlinkSync(BUILD_LOCK);
  }
}

export interface CasefileServer {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly pid: number;
  readonly dataDir: string;
  /** Everything the server printed (stdout + stderr), for failure messages. */
  output(): string;
  /** Call the API as the page does (POST /api/<method> with the token). */
  api<M extends Method>(method: M, input: Input<M>): Promise<Output<M>>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** HOME for the server (its ~/.ssh/config and known_hosts); default a fresh temp dir. */
  readonly home?: string;
  readonly dataDir?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Start `node bin/casefile.mjs serve --port 0` and wait for its URL line
 * ("Casefile browser mode: http://127.0.0.1:PORT/?token=..."). Stopped by PID.
 */
export async function startCasefile(opts: ServerOptions = {}): Promise<CasefileServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'casefile-e2e-data-'));
  const home = opts.home ?? mkdtempSync(path.join(os.tmpdir(), 'casefile-e2e-home-'));
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin', 'casefile.mjs'), 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, CASEFILE_HOME: dataDir, HOME: home, SSH_AUTH_SOCK: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const pid = child.pid;
  if (!pid) throw new Error('casefile serve did not start');
  const cleanup = (): void => {
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (!opts.home) rmSync(home, { recursive: true, force: true });
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`casefile serve printed no URL within 30 s:\n${out}`)), 30_000);
    const check = (): void => {
      const m = /Casefile browser mode: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`casefile serve exited with ${code}:\n${out}`));
    });
  }).catch((e: unknown) => {
    if (child.exitCode === null) process.kill(pid, 'SIGKILL');
    cleanup();
    throw e;
  });
  const u = new URL(url);
  const token = u.searchParams.get('token')!;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    origin: u.origin,
    token,
    pid,
    dataDir,
    output: () => out,
    async api(method, input) {
      const res = await fetch(`${u.origin}/api/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Casefile-Token': token },
        body: JSON.stringify(input),
      });
      const body: unknown = await res.json();
      if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${JSON.stringify(body)}`);
      return body as Output<typeof method>;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        const killer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 5000);
        await exited;
        clearTimeout(killer);
      }
      cleanup();
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface OpenedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console errors seen so far. */
  readonly errors: string[];
  /** Requests that left 127.0.0.1 (must stay empty: the app works offline). */
  readonly offHostRequests: string[];
}

/**
 * A fresh context with a canary: anything that manages to execute injected script sets window.__pwned.
 * Every request to somewhere other than the server is recorded and refused.
 */
export async function openApp(browser: Browser, server: CasefileServer, hash = ''): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  await context.addInitScript(() => {
    (window as unknown as { __pwned: boolean }).__pwned = false;
  });
  const errors: string[] = [];
  const offHostRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const u = route.request().url();
    if (u.startsWith(server.origin) || u.startsWith('blob:') || u.startsWith('data:')) return route.continue();
    offHostRequests.push(u);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(server.url + hash);
  return { context, page, errors, offHostRequests };
}

const SANDBOX_NOTE = "console: Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed and the 'allow-scripts' permission is not set.";

/**
 * The page's errors, plus anything active found in the app's sandboxed report frame, less Chromium's note that it
 * blocked a script there. Whenever the page shows the HTML report, its HTML is parsed with DOMParser (which runs
 * nothing) and must hold nothing that could run: no script, iframe, object, embed, base or form element, no meta
 * refresh, no on* attribute, no javascript: in any attribute. With that shown, the blocked script Chromium notes
 * (some of the time) is not the report's, and the note is dropped; anything found is reported instead.
 */
export async function pageErrors(page: Page, errors: readonly string[]): Promise<string[]> {
  const frame = page.getByTestId('report-html');
  if ((await frame.count()) !== 1) return [...errors];
  if ((await frame.getAttribute('sandbox')) !== '') return [...errors, 'report frame is not sandboxed'];
  const html = (await frame.getAttribute('srcdoc')) ?? '';
  const active = await page.evaluate((h) => {
    const doc = new DOMParser().parseFromString(h, 'text/html');
    const found: string[] = [];
    for (const el of Array.from(doc.querySelectorAll('*'))) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'frame', 'object', 'embed', 'base', 'form', 'applet'].includes(tag)) found.push(`${tag} element`);
      if (tag === 'meta' && /refresh/i.test(el.getAttribute('http-equiv') ?? '')) found.push('meta refresh');
      for (const a of Array.from(el.attributes)) if (/^on/i.test(a.name) || /javascript:/i.test(a.value)) found.push(`${tag} ${a.name}`);
    }
    return found;
  }, html);
  if (html.length === 0) return [...errors, 'report frame is empty'];
  return [...errors.filter((e) => e !== SANDBOX_NOTE), ...active.map((x) => `report frame holds ${x}`)];
}

export async function pwned(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned !== false);
}

export { sleep };
