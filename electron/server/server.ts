import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Backend } from '../api/backend';
import { ApiError } from '../api/errors';

/**
 * Browser mode: the same API over HTTP + WebSocket, bound to 127.0.0.1 only, with a random token.
 * Refuses requests without the token, from another Origin, or addressed to another Host (DNS rebinding).
 * Useful for tests and for using the workbench from a browser through an SSH port-forward.
 */
export interface ServerOptions {
  readonly backend: Backend;
  readonly port?: number;
  readonly staticDir?: string;
  readonly token?: string;
  /** Largest request body accepted (imports travel as base64). */
  readonly maxBodyBytes?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Resolve a URL path inside root; undefined for anything that escapes it (`..`, symlinks, look-alike siblings). */
export function safeStaticPath(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const rootReal = realpathSync(root);
  const candidate = resolve(rootReal, '.' + (decoded.startsWith('/') ? decoded : `/${decoded}`));
  if (candidate !== rootReal && !candidate.startsWith(rootReal + sep)) return undefined;
  if (!existsSync(candidate)) return undefined;
  const real = realpathSync(candidate);
  if (real !== rootReal && !real.startsWith(rootReal + sep)) return undefined;
  return statSync(real).isFile() ? real : undefined;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const maxBody = opts.maxBodyBytes ?? 256 << 20;
  let port = 0;
  const allowedHosts = (): Set<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = (): Set<string> => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const deny = (res: ServerResponse, status: number, error: string, code = 'forbidden') => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(JSON.stringify({ error, code }));
  };

  const checkHostAndOrigin = (req: IncomingMessage): string | undefined => {
    if (!allowedHosts().has(String(req.headers.host ?? ''))) return 'bad Host header';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return 'cross-origin request refused';
    return undefined;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) deny(res, 500, `internal error: ${(e as Error).message}`, 'internal');
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const bad = checkHostAndOrigin(req);
    if (bad) return deny(res, 403, bad);
    const url = req.url ?? '/';
    if (url.startsWith('/api/')) {
      if (req.method !== 'POST') return deny(res, 405, 'use POST', 'method');
      if (!sameToken(req.headers['x-casefile-token'] as string | undefined, token)) return deny(res, 401, 'missing or wrong token', 'token');
      const ct = String(req.headers['content-type'] ?? '');
      if (!ct.startsWith('application/json')) return deny(res, 415, 'content-type must be application/json', 'content-type');
      const method = decodeURIComponent(url.slice(5).split('?')[0]!);
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, maxBody)) || '{}');
      } catch (e) {
        return deny(res, 400, `bad request body: ${(e as Error).message}`, 'bad-request');
      }
      try {
        const out = await opts.backend.call(method, body);
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        res.end(JSON.stringify(out));
      } catch (e) {
        const code = e instanceof ApiError ? e.code : 'error';
        const status = e instanceof ApiError ? (e.code === 'not-found' ? 404 : e.code === 'unknown-method' ? 404 : 400) : 500;
        deny(res, status, (e as Error).message, code);
      }
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed', 'method');
    // Static renderer files: harmless without the token (the API needs it).
    const root = opts.staticDir;
    if (!root || !existsSync(join(root, 'index.html'))) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The renderer is not built. Run `npm run build` (or `bash scripts/setup.sh`) and restart `casefile serve`.\n');
      return;
    }
    const p = url === '/' || url.startsWith('/?') ? join(realpathSync(root), 'index.html') : safeStaticPath(root, url);
    if (!p) return deny(res, 404, 'not found', 'not-found');
    const headers: Record<string, string> = {
      'content-type': MIME[extname(p)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    };
    if (p.endsWith('.html')) {
      headers['content-security-policy'] = PAGE_CSP;
      headers['x-frame-options'] = 'DENY';
      headers['cache-control'] = 'no-store';
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : readFileSync(p));
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const bad = checkHostAndOrigin(req);
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (bad || u.pathname !== '/events' || !sameToken(u.searchParams.get('token') ?? undefined, token)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
    });
  });
  const off = opts.backend.onEvent((event, payload) => {
    const msg = JSON.stringify({ event, payload });
    for (const c of clients) if (c.readyState === c.OPEN) c.send(msg);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      off();
      for (const c of clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((ok, fail) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        fail(new Error(`body larger than ${max} bytes`));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => ok(Buffer.concat(parts).toString('utf8')));
    req.on('error', fail);
  });
}
