/**
 * known_hosts decisions, with OpenSSH's own ssh-keygen as the oracle: keys and hashed entries are made by
 * `ssh-keygen` (-H hashes a file in place), fingerprints compared with `ssh-keygen -lf`, and lines we write
 * must be found by `ssh-keygen -F`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintSha256, hashHostName, KnownHosts, keyTypeOfBlob } from '../../electron/ssh/knownhosts';
import { keygen } from '../lab/sshd';

let dir: string;
interface Key {
  type: string;
  blob: Buffer;
  line: string; // "type base64"
  pubPath: string;
}
const keys: Record<string, Key> = {};

function makeKey(name: string, type: string): Key {
  const f = path.join(dir, name);
  keygen(f, type);
  const [t, b64] = readFileSync(`${f}.pub`, 'utf8').trim().split(/\s+/) as [string, string];
  return { type: t, blob: Buffer.from(b64, 'base64'), line: `${t} ${b64}`, pubPath: `${f}.pub` };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-kh-'));
  keys.ed1 = makeKey('ed1', 'ed25519');
  keys.ed2 = makeKey('ed2', 'ed25519');
  keys.ecdsa = makeKey('ec', 'ecdsa');
  keys.rsa = makeKey('rsa', 'rsa');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('fingerprints', () => {
  it('equal ssh-keygen -lf output for ed25519, ecdsa and rsa keys', () => {
    for (const k of Object.values(keys)) {
      const out = spawnSync('ssh-keygen', ['-lf', k.pubPath], { encoding: 'utf8' }).stdout;
      expect(out.split(' ')[1]).toBe(fingerprintSha256(k.blob));
      expect(keyTypeOfBlob(k.blob)).toBe(k.type);
    }
  });
});

describe('KnownHosts.check', () => {
  it('finds plain, [host]:port, multi-name and wildcard entries', () => {
    const f = file('plain', `# comment\n\nalpha,192.0.2.1 ${keys.ed1!.line}\n[beta]:2222 ${keys.ed1!.line}\n*.lab.example ${keys.ecdsa!.line}\n`);
    const kh = new KnownHosts({ userFiles: [f] });
    expect(kh.check('192.0.2.1', 22, keys.ed1!.type, keys.ed1!.blob)).toMatchObject({ result: 'known', file: f, line: 3 });
    expect(kh.check('ALPHA', 22, keys.ed1!.type, keys.ed1!.blob).result).toBe('known');
    expect(kh.check('beta', 2222, keys.ed1!.type, keys.ed1!.blob).result).toBe('known');
    // beta on port 22 is another host as far as known_hosts is concerned
    expect(kh.check('beta', 22, keys.ed1!.type, keys.ed1!.blob)).toMatchObject({ result: 'unknown', fingerprint: fingerprintSha256(keys.ed1!.blob) });
    expect(kh.check('n1.lab.example', 22, keys.ecdsa!.type, keys.ecdsa!.blob).result).toBe('known');
  });

  it('reads entries hashed by ssh-keygen -H (HMAC-SHA1 of the name, |1|salt|hash)', () => {
    const f = file('hashed', `gamma ${keys.ed1!.line}\n[gamma]:2200 ${keys.rsa!.line}\n`);
    expect(spawnSync('ssh-keygen', ['-H', '-f', f]).status).toBe(0);
    const text = readFileSync(f, 'utf8');
    expect(text).not.toContain('gamma');
    expect(text.startsWith('|1|')).toBe(true);
    const kh = new KnownHosts({ userFiles: [f] });
    expect(kh.check('gamma', 22, keys.ed1!.type, keys.ed1!.blob).result).toBe('known');
    expect(kh.check('gamma', 2200, keys.rsa!.type, keys.rsa!.blob).result).toBe('known');
    expect(kh.check('delta', 22, keys.ed1!.type, keys.ed1!.blob).result).toBe('unknown');
  });

  it('tells a changed key (same algorithm) from a new algorithm for a known host', () => {
    const f = file('changed', `host1 ${keys.ed1!.line}\nhost1 ${keys.rsa!.line}\n`);
    const kh = new KnownHosts({ userFiles: [f] });
    const changed = kh.check('host1', 22, keys.ed2!.type, keys.ed2!.blob);
    expect(changed).toEqual({
      result: 'changed',
      fingerprint: fingerprintSha256(keys.ed2!.blob),
      file: f,
      line: 1,
      knownType: 'ssh-ed25519',
      knownFingerprint: fingerprintSha256(keys.ed1!.blob),
      notes: [],
    });
    const fresh = kh.check('host1', 22, keys.ecdsa!.type, keys.ecdsa!.blob);
    expect(fresh).toMatchObject({ result: 'new-algorithm', knownTypes: ['ssh-ed25519', 'ssh-rsa'] });
  });

  it('refuses @revoked keys and notes @cert-authority lines', () => {
    const f = file('markers', `@revoked * ${keys.ed2!.line}\n@cert-authority *.example ${keys.rsa!.line}\nhost2 ${keys.ed2!.line}\n`);
    const kh = new KnownHosts({ userFiles: [f] });
    expect(kh.check('host2', 22, keys.ed2!.type, keys.ed2!.blob)).toMatchObject({ result: 'revoked', line: 1 });
    const r = kh.check('a.example', 22, keys.ed1!.type, keys.ed1!.blob);
    expect(r.result).toBe('unknown');
    expect(r.notes.join('\n')).toMatch(/@cert-authority entry ignored/);
  });

  it('negated patterns exclude a host', () => {
    const f = file('neg', `*.corp,!evil.corp ${keys.ed1!.line}\n`);
    const kh = new KnownHosts({ userFiles: [f] });
    expect(kh.check('good.corp', 22, keys.ed1!.type, keys.ed1!.blob).result).toBe('known');
    expect(kh.check('evil.corp', 22, keys.ed1!.type, keys.ed1!.blob).result).toBe('unknown');
  });

  it('survives garbage lines with a note', () => {
    const f = file('garbage', `\u0000\u0001 junk\nhost3 ssh-ed25519 !!!notbase64\nhost3 ${keys.ed1!.line}\n`);
    const r = new KnownHosts({ userFiles: [f] }).check('host3', 22, keys.ed1!.type, keys.ed1!.blob);
    expect(r.result).toBe('known');
    expect(r.notes.length).toBeGreaterThan(0);
  });
});

describe('KnownHosts.accept', () => {
  it('appends a plain [host]:port line that ssh-keygen -F finds', () => {
    const f = path.join(dir, 'sub', 'accept_plain');
    const kh = new KnownHosts({ userFiles: [f] });
    kh.accept('127.0.0.1', 2345, keys.ed1!.type, keys.ed1!.blob);
    expect(readFileSync(f, 'utf8')).toBe(`[127.0.0.1]:2345 ${keys.ed1!.line}\n`);
    const found = spawnSync('ssh-keygen', ['-F', '[127.0.0.1]:2345', '-f', f], { encoding: 'utf8' });
    expect(found.status).toBe(0);
    expect(kh.check('127.0.0.1', 2345, keys.ed1!.type, keys.ed1!.blob).result).toBe('known');
  });
  it('writes hashed entries when HashKnownHosts is set, readable by ssh-keygen -F', () => {
    const f = file('accept_hashed', `other ${keys.rsa!.line}`); // no trailing newline: accept must add one
    const kh = new KnownHosts({ userFiles: [f], hash: true });
    kh.accept('epsilon', 22, keys.ecdsa!.type, keys.ecdsa!.blob);
    const lines = readFileSync(f, 'utf8').split('\n');
    expect(lines[0]).toBe(`other ${keys.rsa!.line}`);
    expect(lines[1]!.startsWith('|1|')).toBe(true);
    expect(spawnSync('ssh-keygen', ['-F', 'epsilon', '-f', f]).status).toBe(0);
    expect(kh.check('epsilon', 22, keys.ecdsa!.type, keys.ecdsa!.blob).result).toBe('known');
  });
  it('hashHostName is deterministic for a given salt', () => {
    const salt = Buffer.alloc(20, 7);
    expect(hashHostName('h', salt)).toBe(hashHostName('h', salt));
    expect(hashHostName('h', salt)).not.toBe(hashHostName('i', salt));
  });
});
