/**
 * Host key trust against a real sshd: unknown keys are refused unless confirmed (then recorded), a changed key
 * is a hard stop that names the known_hosts line, and the server never sees an authentication request from a
 * connection whose key was refused (checked in sshd's own DEBUG log).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDestination } from '../../electron/ssh/config';
import { HostKeyChangedError, HostKeyNotTrustedError } from '../../electron/ssh/errors';
import { fingerprintSha256 } from '../../electron/ssh/knownhosts';
import { HostSession } from '../../electron/ssh/session';
import type { UnknownHostKeyRequest } from '../../electron/ssh/transport';
import { startSshd, type SshdLab } from '../lab/sshd';

let lab: SshdLab;
const env = {}; // no agent: only the lab's key file

function hostPubFingerprint(): string {
  const b64 = readFileSync(`${lab.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/)[1]!;
  return fingerprintSha256(Buffer.from(b64, 'base64'));
}

/** What the server logged since `from` (a length of the log). */
function logSince(from: number): string {
  return lab.log().slice(from);
}

async function waitForLog(from: number, re: RegExp): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const t = logSince(from);
    if (re.test(t)) return t;
    await new Promise((r) => setTimeout(r, 50));
  }
  return logSince(from);
}

beforeAll(async () => {
  lab = await startSshd({ knownHosts: false });
});
afterAll(async () => {
  await lab?.cleanup();
});

describe('unknown host key', () => {
  it('is refused when nobody confirms it, before any authentication', async () => {
    const mark = lab.log().length;
    const r = resolveDestination(lab.alias, { home: lab.home });
    await expect(HostSession.connect(r, { env })).rejects.toBeInstanceOf(HostKeyNotTrustedError);
    const log = await waitForLog(mark, /Connection (closed|reset)|disconnect|Disconnected/i);
    expect(log).toMatch(/Connection from 127\.0\.0\.1/);
    expect(log).not.toMatch(/userauth-request|Accepted publickey|Failed publickey/);
    expect(readFileSync(lab.knownHostsPath, 'utf8')).toBe('');
  });

  it('is refused when the user says no, after showing the SHA256 fingerprint ssh-keygen prints', async () => {
    const asked: UnknownHostKeyRequest[] = [];
    const r = resolveDestination(lab.alias, { home: lab.home });
    await expect(
      HostSession.connect(r, {
        env,
        onUnknownHostKey: async (req) => {
          asked.push(req);
          return false;
        },
      }),
    ).rejects.toThrow(/not accepted: the user refused it/);
    expect(asked).toEqual([{ host: '127.0.0.1', port: lab.port, keyType: 'ssh-ed25519', fingerprint: hostPubFingerprint() }]);
    expect(readFileSync(lab.knownHostsPath, 'utf8')).toBe('');
  });

  it('is recorded once accepted, and the next connection does not ask again', async () => {
    let asked = 0;
    const mark = lab.log().length;
    const r = resolveDestination(lab.alias, { home: lab.home });
    const s = await HostSession.connect(r, {
      env,
      onUnknownHostKey: async () => {
        asked++;
        return true;
      },
    });
    expect(s.hostKey).toEqual({ type: 'ssh-ed25519', fingerprint: hostPubFingerprint() });
    // Control for the "no auth" checks below: a trusted connection does show up as userauth requests.
    expect(await waitForLog(mark, /Accepted publickey/)).toMatch(/userauth-request for user/);
    s.dispose();
    const recorded = readFileSync(lab.knownHostsPath, 'utf8');
    const pub = readFileSync(`${lab.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
    // /etc/ssh/ssh_config on Debian sets HashKnownHosts yes, which we honour like ssh does: ask ssh-keygen.
    expect(recorded.trim().split(' ').slice(1)).toEqual([pub[0], pub[1]]);
    expect(recorded.trim().split('\n')).toHaveLength(1);
    const found = spawnSync('ssh-keygen', ['-F', `[127.0.0.1]:${lab.port}`, '-f', lab.knownHostsPath], { encoding: 'utf8' });
    expect(found.status).toBe(0);
    const s2 = await HostSession.connect(r, { env, onUnknownHostKey: async () => (asked++, false) });
    s2.dispose();
    expect(asked).toBe(1);
  });
});

describe('changed host key', () => {
  it('is a hard stop naming the known_hosts line and both fingerprints; no auth reaches the server', async () => {
    const r = resolveDestination(lab.alias, { home: lab.home });
    // Make sure the current key is known (previous test recorded it), plus a comment line above it.
    writeFileSync(lab.knownHostsPath, `# lab\n${readFileSync(lab.knownHostsPath, 'utf8')}`);
    const oldFp = hostPubFingerprint();
    await lab.restartWithNewHostKey();
    const newFp = hostPubFingerprint();
    expect(newFp).not.toBe(oldFp);
    const mark = lab.log().length;
    let asked = false;
    const err = await HostSession.connect(r, {
      env,
      onUnknownHostKey: async () => (asked = true),
      askPassword: async () => {
        throw new Error('must never be asked for a password');
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostKeyChangedError);
    const e = err as HostKeyChangedError;
    expect(e.file).toBe(lab.knownHostsPath);
    expect(e.line).toBe(2);
    expect(e.message).toContain(`${lab.knownHostsPath}:2`);
    expect(e.message).toContain(oldFp);
    expect(e.message).toContain(newFp);
    expect(asked).toBe(false);
    const log = await waitForLog(mark, /Connection (closed|reset)|disconnect|Disconnected/i);
    expect(log).toMatch(/Connection from 127\.0\.0\.1/);
    expect(log).toMatch(/kex|KEX/); // the handshake did happen...
    expect(log).not.toMatch(/userauth-request|Accepted publickey|Failed publickey|Failed password/); // ...but no auth
  });

  it('a key of a new algorithm for a known host is asked about as such, not reported as changed', async () => {
    // Known: the current ed25519 key only. The server now offers ecdsa instead.
    const pub = readFileSync(`${lab.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
    writeFileSync(lab.knownHostsPath, `[127.0.0.1]:${lab.port} ${pub[0]} ${pub[1]}\n`);
    await lab.restartWithNewHostKey('ecdsa');
    const asked: UnknownHostKeyRequest[] = [];
    const r = resolveDestination(lab.alias, { home: lab.home });
    await expect(HostSession.connect(r, { env, onUnknownHostKey: async (q) => (asked.push(q), false) })).rejects.toBeInstanceOf(HostKeyNotTrustedError);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.keyType).toBe('ecdsa-sha2-nistp256');
    expect(asked[0]!.knownTypes).toEqual(['ssh-ed25519']);
  });
});
