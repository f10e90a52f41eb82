/**
 * Authentication against a real sshd: an ssh-agent we start ourselves, a passphrase-protected key (the
 * passphrase asked, never stored), the password fallback prompted, and the clear errors for a refused port and
 * a server that never speaks (ConnectTimeout).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDestination } from '../../electron/ssh/config';
import { AuthenticationError, ConnectTimeoutError, HostUnreachableError } from '../../electron/ssh/errors';
import { HostSession } from '../../electron/ssh/session';
import { freePort, killPid, waitFor } from '../lab/proc';
import { startSshd, type SshdLab } from '../lab/sshd';

const PASS = "correct horse 'battery' $staple";
let lab: SshdLab; // client key has a passphrase
let agent: ChildProcess | undefined;
let agentDir: string;
let agentSock: string;

beforeAll(async () => {
  lab = await startSshd({ passphrase: PASS, passwordAuth: true });
  agentDir = mkdtempSync(path.join(os.tmpdir(), 'casefile-agent-'));
  agentSock = path.join(agentDir, 'agent.sock');
  // -D: foreground, so the PID we hold is the agent itself and we can kill it by PID.
  agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  await waitFor('ssh-agent socket', () => existsSync(agentSock), 5000);
});

afterAll(async () => {
  if (agent?.pid) killPid(agent.pid, 'SIGTERM');
  await lab?.cleanup();
  rmSync(agentDir, { recursive: true, force: true });
});

describe('passphrase-protected key', () => {
  it('asks for the passphrase, retries after a wrong one, and logs in', async () => {
    const asked: [string, number][] = [];
    const r = resolveDestination(lab.alias, { home: lab.home });
    const s = await HostSession.connect(r, {
      env: {},
      askPassphrase: async (keyPath, attempt) => {
        asked.push([keyPath, attempt]);
        return attempt === 1 ? 'wrong' : PASS;
      },
    });
    expect(asked).toEqual([
      [lab.clientKeyPath, 1],
      [lab.clientKeyPath, 2],
    ]);
    const out: Buffer[] = [];
    expect((await s.exec({ argv: ['echo', 'in'] }, { onStdout: (b) => out.push(b) })).status).toBe('ok');
    expect(Buffer.concat(out).toString()).toBe('in\n');
    s.dispose();
  });

  it('without a passphrase prompt the key is skipped and the password fallback is prompted', async () => {
    const prompts: string[] = [];
    const r = resolveDestination(lab.alias, { home: lab.home });
    const err = await HostSession.connect(r, {
      env: {},
      askPassword: async (q) => {
        prompts.push(`${q.kind}:${q.prompt}`);
        return 'not-the-password';
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(/permission denied \(tried password\)/);
    expect((err as Error).message).toMatch(/passphrase-protected and no prompt/);
    expect(prompts).toEqual([`password:${lab.user}@127.0.0.1's password: `]);
  });
});

describe('ssh-agent', () => {
  it('authenticates with a key held by an agent started for the test', async () => {
    // ssh-add reads the passphrase through SSH_ASKPASS when forced to: a tiny helper prints it.
    const helper = path.join(agentDir, 'askpass.sh');
    writeFileSync(helper, `#!/bin/sh\nprintf '%s\\n' '${PASS.replace(/'/g, `'\\''`)}'\n`);
    chmodSync(helper, 0o700);
    const add = spawnSync('ssh-add', [lab.clientKeyPath], {
      env: { ...process.env, SSH_AUTH_SOCK: agentSock, SSH_ASKPASS: helper, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'x' },
      encoding: 'utf8',
    });
    expect(add.stderr).toMatch(/Identity added/);
    const r = resolveDestination(`${lab.user}@127.0.0.1:${lab.port}`, { home: lab.home });
    expect(r.identitiesOnly).toBe(false);
    let askedPassphrase = false;
    const mark = lab.log().length;
    const s = await HostSession.connect(r, {
      env: { SSH_AUTH_SOCK: agentSock },
      askPassphrase: async () => {
        askedPassphrase = true;
        return undefined;
      },
    });
    expect(askedPassphrase).toBe(false); // the agent signed: the key file was never opened
    s.dispose();
    await waitFor('sshd to log the login', () => /Accepted publickey/.test(lab.log().slice(mark)), 3000);
  });
});

describe('connection errors', () => {
  it('a refused port is a clear HostUnreachableError', async () => {
    const port = await freePort();
    const r = resolveDestination(`127.0.0.1:${port}`, { home: lab.home });
    await expect(HostSession.connect(r, { env: {} })).rejects.toThrow(new HostUnreachableError('127.0.0.1', port, 'Connection refused').message);
  });

  it('a server that accepts but never speaks ends within ConnectTimeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const r = { ...resolveDestination(`127.0.0.1:${port}`, { home: lab.home }), connectTimeoutSec: 1 };
      const t0 = performance.now();
      const err = await HostSession.connect(r, { env: {} }).catch((e: unknown) => e);
      const ms = performance.now() - t0;
      expect(err).toBeInstanceOf(ConnectTimeoutError);
      expect((err as Error).message).toMatch(/timed out during banner exchange after 1 s/);
      expect(ms).toBeGreaterThanOrEqual(950);
      expect(ms).toBeLessThan(2000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
