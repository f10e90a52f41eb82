import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';
import { startServer, safeStaticPath, type RunningServer } from '../../electron/server/server';

/** Raw HTTP so the test controls Host and Origin exactly (fetch would not let it forge them). */
function http(port: number, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString(), headers: res.headers }));
    });
    req.on('error', fail);
    req.end(o.body);
  });
}

/**
 * The kernel's own view of who listens on a TCP port: the local addresses of LISTEN sockets in /proc/net/tcp and
 * /proc/net/tcp6 (state 0A), decoded. Independent of what the server prints or reports about itself.
 */
function listeningAddresses(port: number): string[] {
  const out: string[] = [];
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '0A') continue;
      const [hexAddr, hexPort] = f[1]!.split(':');
      if (parseInt(hexPort!, 16) !== port) continue;
      // Addresses are in host (little-endian) order, 32 bits at a time.
      const words = hexAddr!.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
      if (!v6) out.push(words[0]!.match(/../g)!.map((b) => parseInt(b, 16)).join('.'));
      else {
        const hex = words.join('');
        out.push(hex === '0'.repeat(32) ? '::' : hex === '0'.repeat(20) + 'ffff' + words[3] ? `::ffff:${words[3]!.match(/../g)!.map((b) => parseInt(b, 16)).join('.')}` : hex.match(/.{4}/g)!.join(':'));
      }
    }
  }
  return out;
}

let dir: string;
let server: RunningServer;
let backend: Backend;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-server-'));
  const staticDir = join(dir, 'static');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Casefile</title>');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve');
  mkdirSync(join(dir, 'static-evil'));
  writeFileSync(join(dir, 'static-evil', 'x.js'), 'evil');
  symlinkSync(join(dir, 'secret.txt'), join(staticDir, 'link.txt'));
  const dbFile = join(dir, 'c.db');
  backend = new Backend({ db: openDb(dbFile), dbFile, playbookDir: join(dir, 'none') });
  server = await startServer({ backend, port: 0, staticDir });
});
afterAll(async () => {
  await server.close();
  await backend.dispose();
  backend.store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  http(server.port, `/api/${method}`, { method: 'POST', body: JSON.stringify(body), headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json', 'x-casefile-token': server.token, ...headers } });

describe('browser mode server', () => {
  it('prints a loopback URL with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('answers API calls that carry the token', async () => {
    const r = await api('cases.create', { name: 'demo' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).name).toBe('demo');
    const l = await api('cases.list', {});
    expect(JSON.parse(l.body).map((c: { name: string }) => c.name)).toEqual(['demo']);
  });

  it('refuses a request with no token header at all', async () => {
    const r = await http(server.port, '/api/cases.list', { method: 'POST', body: '{}', headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json' } });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).code).toBe('token');
    // The token is a header, never a query parameter or a cookie, for the API.
    const q = await http(server.port, `/api/cases.list?token=${server.token}`, { method: 'POST', body: '{}', headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json', cookie: `token=${server.token}` } });
    expect(q.status).toBe(401);
  });

  it('refuses requests without the token or with a wrong one', async () => {
    expect((await api('cases.list', {}, { 'x-casefile-token': '' })).status).toBe(401);
    // One character changed (to a different one: the random token may itself end in 'x').
    const wrong = `${server.token.slice(0, -1)}${server.token.endsWith('x') ? 'y' : 'x'}`;
    expect((await api('cases.list', {}, { 'x-casefile-token': wrong })).status).toBe(401);
  });

  it('refuses another Origin and another Host (DNS rebinding)', async () => {
    const o = await api('cases.list', {}, { origin: 'http://evil.example' });
    expect(o.status).toBe(403);
    expect(JSON.parse(o.body).error).toMatch(/cross-origin/);
    expect((await api('cases.list', {}, { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await api('cases.list', {}, { origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
  });

  it('refuses every Host that is not this loopback port, for the API and the page alike (DNS rebinding)', async () => {
    const hosts = [
      `evil.example:${server.port}`,
      `127.0.0.1.evil.example:${server.port}`,
      `localhost.evil.example:${server.port}`,
      `127.0.0.1:${server.port + 1}`,
      '127.0.0.1',
      `10.0.0.1:${server.port}`,
      `0.0.0.0:${server.port}`,
      `[::1]:${server.port}`,
    ];
    for (const host of hosts) {
      expect((await api('cases.list', {}, { host })).status, `API, Host ${JSON.stringify(host)}`).toBe(403);
      expect((await http(server.port, '/', { headers: { host } })).status, `page, Host ${JSON.stringify(host)}`).toBe(403);
    }
    // Foreign and opaque origins (a sandboxed frame or a file:// page sends "null").
    for (const origin of ['null', `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`, `http://evil.example:${server.port}`, 'file://']) {
      expect((await api('cases.list', {}, { origin })).status, `Origin ${origin}`).toBe(403);
    }
    expect((await http(server.port, '/', { headers: { host: `localhost:${server.port}` } })).status).toBe(200);
    // No Host header at all (HTTP/1.0 allows it; node's client would add one, so this is a raw socket).
    const raw = await new Promise<string>((ok, fail) => {
      const sock = connect(server.port, '127.0.0.1', () => sock.end(`POST /api/cases.list HTTP/1.0\r\nx-casefile-token: ${server.token}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`));
      let got = '';
      sock.setEncoding('utf8').on('data', (d: string) => (got += d)).on('end', () => ok(got)).on('error', fail);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 403 /);
  });

  it('validates every input with the contract and reports unknown methods', async () => {
    const bad = await api('cases.create', { name: 42 });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).code).toBe('invalid-input');
    expect((await api('constructor', {})).status).toBe(404);
    expect((await api('__proto__', {})).status).toBe(404);
    expect((await api('cases.list', {}, { 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('serves the page with a strict CSP and never serves files outside its folder', async () => {
    const page = await http(server.port, '/', { headers: { host: `127.0.0.1:${server.port}` } });
    expect(page.status).toBe(200);
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(page.headers['content-security-policy'])).not.toContain('unsafe-eval');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/../static-evil/x.js', '/link.txt', '/%00']) {
      expect((await http(server.port, p, { headers: { host: `127.0.0.1:${server.port}` } })).status, p).toBe(404);
    }
    expect(safeStaticPath(join(dir, 'static'), '/../static-evil/x.js')).toBeUndefined();
  });

  it('its listening socket is bound to 127.0.0.1 and nothing else (the kernel says so)', async () => {
    expect(listeningAddresses(server.port)).toEqual(['127.0.0.1']);
    // Control: the same reading does see a socket bound to every interface.
    const wide = createServer();
    await new Promise<void>((ok) => wide.listen(0, '0.0.0.0', ok));
    try {
      const p = (wide.address() as { port: number }).port;
      expect(listeningAddresses(p)).toEqual(['0.0.0.0']);
    } finally {
      await new Promise((ok) => wide.close(ok));
    }
  });

  it('binds to loopback only', async () => {
    const { networkInterfaces } = await import('node:os');
    const other = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (other) {
      await expect(new Promise((ok, fail) => request({ host: other.address, port: server.port, path: '/', timeout: 2000 }, ok).on('error', fail).on('timeout', () => fail(new Error('timeout'))).end())).rejects.toThrow();
    } else {
      // No non-loopback interface on this machine: check the bound address directly.
      expect(server.url.startsWith('http://127.0.0.1:')).toBe(true);
    }
  });

  it('pushes events over a WebSocket that needs the token', async () => {
    const bad = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=nope`);
    await expect(new Promise((ok, fail) => (bad.on('open', ok), bad.on('error', fail)))).rejects.toThrow(/403/);
    // The right token is not enough: another Origin (a page the user visits) or another Host is refused too,
    // and so is a missing token.
    const refused = async (url: string, o: WebSocket.ClientOptions = {}): Promise<void> => {
      const ws = new WebSocket(url, o);
      await expect(new Promise((ok, fail) => (ws.on('open', ok), ws.on('error', fail))), `${url} ${JSON.stringify(o)}`).rejects.toThrow(/403/);
    };
    const good = `ws://127.0.0.1:${server.port}/events?token=${server.token}`;
    await refused(good, { origin: 'http://evil.example' });
    await refused(good, { origin: 'null' });
    await refused(good, { origin: `http://127.0.0.1:${server.port + 1}` });
    await refused(good, { headers: { host: `evil.example:${server.port}` } });
    await refused(`ws://127.0.0.1:${server.port}/events`);
    await refused(`ws://127.0.0.1:${server.port}/events?token=`);
    await refused(`ws://127.0.0.1:${server.port}/other?token=${server.token}`);
    const same = new WebSocket(good, { origin: `http://127.0.0.1:${server.port}` });
    await new Promise((ok, fail) => (same.on('open', ok), same.on('error', fail)));
    same.close();
    const ws = new WebSocket(good);
    await new Promise((ok) => ws.on('open', ok));
    const got = new Promise<{ event: string }>((ok) => ws.on('message', (m) => ok(JSON.parse(String(m)))));
    const c = JSON.parse((await api('cases.create', { name: 'ev' })).body);
    await api('annotations.add', { caseId: c.id, target: 'case', body: 'note' });
    expect((await got).event).toBe('case.updated');
    ws.close();
  });
});
