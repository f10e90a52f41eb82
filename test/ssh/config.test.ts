/**
 * Destination resolution, checked against OpenSSH itself: `ssh -G -F cfg DEST` prints the configuration ssh
 * would use, so the real client is the oracle for everything it can print.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConfigHosts, matchPatternList, resolveDestination, SshConfigError } from '../../electron/ssh/config';
import { DestinationSyntaxError, parseDestination, parseProxyJump } from '../../electron/ssh/destination';

let dir: string;
let home: string;
let cfg: string;

/** What `ssh -G` says, as lowercase key -> values. */
function sshG(dest: string, file: string): Map<string, string[]> {
  const r = spawnSync('ssh', ['-G', '-F', file, dest], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh -G ${dest}: ${r.stderr}`);
  const m = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const k = line.slice(0, sp).toLowerCase();
    m.set(k, [...(m.get(k) ?? []), line.slice(sp + 1)]);
  }
  return m;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-sshcfg-'));
  home = path.join(dir, 'home');
  mkdirSync(path.join(home, '.ssh', 'conf.d'), { recursive: true });
  cfg = path.join(home, '.ssh', 'config');
  writeFileSync(
    path.join(home, '.ssh', 'conf.d', '10-db.conf'),
    `Host db-?\n  HostName %h.db.internal\n  User dba\n  Port 2201\n`,
  );
  writeFileSync(path.join(home, '.ssh', 'conf.d', '20-other.conf'), `Host db-1\n  User ignored-because-first-wins\n`);
  writeFileSync(
    cfg,
    [
      `Include ${path.join(home, '.ssh', 'conf.d')}/*.conf`,
      'Host web prod-web',
      '  HostName 192.0.2.10',
      '  User deploy',
      '  Port 2222',
      `  IdentityFile ${dir}/keys/web_ed25519`,
      `  IdentityFile ${dir}/keys/%r_at_%h`,
      '  IdentitiesOnly yes',
      '  ConnectTimeout 7',
      '  ServerAliveInterval 11',
      '  ServerAliveCountMax 4',
      'Host bastion',
      '  HostName 198.51.100.1',
      '  User jump',
      'Host inner',
      '  HostName 10.9.9.9',
      '  ProxyJump bastion,ops@mid.example:2022',
      'Host deep',
      '  HostName 10.8.8.8',
      '  ProxyJump inner',
      'Host *.corp !secret.corp',
      '  User corpuser',
      'Host loop1',
      '  ProxyJump loop2',
      'Host loop2',
      '  ProxyJump loop1',
      'Host *',
      '  User fallback',
      `  UserKnownHostsFile ${dir}/kh1 ${dir}/kh2`,
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseDestination', () => {
  it('parses user@host:port, [v6]:port, ssh:// URIs and bare IPv6', () => {
    expect(parseDestination('alice@Example.COM:2200')).toEqual({ host: 'example.com', user: 'alice', port: 2200 });
    expect(parseDestination('[::1]:2222')).toEqual({ host: '::1', port: 2222 });
    expect(parseDestination('ssh://bob@h:23')).toEqual({ host: 'h', user: 'bob', port: 23 });
    expect(parseDestination('fe80::1')).toEqual({ host: 'fe80::1' });
    expect(parseDestination('a@b@host')).toEqual({ host: 'host', user: 'a@b' });
  });
  it('rejects bad ports, empty parts and control characters with a clear message', () => {
    expect(() => parseDestination('h:99999')).toThrow(/out of range/);
    expect(() => parseDestination('h:2x')).toThrow(DestinationSyntaxError);
    expect(() => parseDestination('@h')).toThrow(/empty user/);
    expect(() => parseDestination('h;rm -rf /')).toThrow(/whitespace or control/);
    expect(() => parseDestination('')).toThrow(/empty destination/);
  });
  it('splits ProxyJump lists and honours none', () => {
    expect(parseProxyJump('a,ops@b:2022,ssh://c')).toEqual([{ host: 'a' }, { host: 'b', user: 'ops', port: 2022 }, { host: 'c' }]);
    expect(parseProxyJump('none')).toEqual([]);
  });
});

describe('pattern lists (match.c semantics)', () => {
  it('? matches exactly one character, * any run, ! rejects', () => {
    expect(matchPatternList('db-1', ['db-?'])).toBe(true);
    expect(matchPatternList('db-', ['db-?'])).toBe(false);
    expect(matchPatternList('db-12', ['db-?'])).toBe(false);
    expect(matchPatternList('a.corp', ['*.corp', '!secret.corp'])).toBe(true);
    expect(matchPatternList('secret.corp', ['*.corp', '!secret.corp'])).toBe(false);
    expect(matchPatternList('x', ['!y'])).toBe(false); // only negations never match
  });
});

describe('resolveDestination agrees with ssh -G', () => {
  const keys = ['hostname', 'user', 'port', 'connecttimeout', 'serveraliveinterval', 'serveralivecountmax', 'identitiesonly'] as const;
  for (const dest of ['web', 'prod-web', 'db-1', 'db-12', 'x.corp', 'secret.corp', 'ssh://root@web:2299', 'inner', 'unknown-host']) {
    it(`${dest}`, () => {
      const g = sshG(dest, cfg);
      const r = resolveDestination(dest.startsWith('ssh://') ? 'root@web:2299' : dest, { configPath: cfg, home });
      const ours: Record<(typeof keys)[number], string> = {
        hostname: r.hostName,
        user: r.user,
        port: String(r.port),
        connecttimeout: r.connectTimeoutSec === undefined ? 'none' : String(r.connectTimeoutSec),
        serveraliveinterval: String(r.serverAliveIntervalSec),
        serveralivecountmax: String(r.serverAliveCountMax),
        identitiesonly: r.identitiesOnly ? 'yes' : 'no',
      };
      for (const k of keys) expect(`${k} ${ours[k]}`).toBe(`${k} ${g.get(k)?.[0]}`);
      expect(r.userKnownHostsFiles.join(' ')).toBe(g.get('userknownhostsfile')?.[0]);
      // ssh -G prints IdentityFile before token expansion: compare the token-free ones.
      if (r.identityFilesConfigured) expect(r.identityFiles[0]).toBe(g.get('identityfile')?.[0]);
      const pj = g.get('proxyjump')?.[0];
      if (pj) expect(r.proxyJump.length).toBeGreaterThan(0);
    });
  }
});

describe('resolveDestination details', () => {
  it('expands %r/%h tokens in IdentityFile and keeps every IdentityFile in order', () => {
    const r = resolveDestination('web', { configPath: cfg, home });
    expect(r.identityFiles).toEqual([`${dir}/keys/web_ed25519`, `${dir}/keys/deploy_at_192.0.2.10`]);
    expect(r.identityFilesConfigured).toBe(true);
  });
  it('command-line user and port win over the config', () => {
    const r = resolveDestination('root@web:2299', { configPath: cfg, home });
    expect([r.user, r.port, r.hostName]).toEqual(['root', 2299, '192.0.2.10']);
  });
  it('plain host falls back to the local user and port 22 when nothing matches', () => {
    const r = resolveDestination('203.0.113.5', { configPath: path.join(dir, 'nonexistent'), home });
    expect(r.user).toBe(os.userInfo().username);
    expect(r.port).toBe(22);
    expect(r.identityFilesConfigured).toBe(false);
    expect(r.identityFiles[0]).toBe(path.join(home, '.ssh', 'id_rsa'));
    expect(r.userKnownHostsFiles).toEqual([path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')]);
  });
  it('Include with a glob, first obtained value wins across included files', () => {
    const r = resolveDestination('db-1', { configPath: cfg, home });
    expect([r.hostName, r.user, r.port]).toEqual(['db-1.db.internal', 'dba', 2201]);
    expect(r.configFiles).toContain(path.join(home, '.ssh', 'conf.d', '20-other.conf'));
  });
  it('relative Include is taken from ~/.ssh, and an Include inside a non-matching Host is inert', () => {
    const h2 = path.join(dir, 'home2');
    mkdirSync(path.join(h2, '.ssh', 'inc'), { recursive: true });
    writeFileSync(path.join(h2, '.ssh', 'inc', 'a.conf'), 'Host rel\n  HostName 10.1.1.1\n  User reluser\n');
    writeFileSync(path.join(h2, '.ssh', 'inc', 'only-for-x.conf'), 'User fromx\nHost *\n  Port 2444\n');
    writeFileSync(path.join(h2, '.ssh', 'config'), 'Include inc/a.conf\nHost x\n  Include inc/only-for-x.conf\nHost *\n  Port 2333\n');
    const r = resolveDestination('rel', { home: h2, systemConfigPath: false });
    expect([r.hostName, r.user, r.port]).toEqual(['10.1.1.1', 'reluser', 2333]);
    const x = resolveDestination('x', { home: h2, systemConfigPath: false });
    expect([x.user, x.port]).toEqual(['fromx', 2444]);
  });
  it('Include of things that are not config files: a directory reads as nothing (as ssh -G), /dev/null is empty, a device or FIFO is an error, never a hang', () => {
    const h3 = path.join(dir, 'home3');
    mkdirSync(path.join(h3, '.ssh', 'd', 'sub.conf'), { recursive: true }); // a directory the glob matches
    writeFileSync(path.join(h3, '.ssh', 'd', 'a.conf'), 'Host dirhost\n  HostName 10.3.3.3\n');
    const conf = path.join(h3, '.ssh', 'config');
    writeFileSync(conf, `Include ${path.join(h3, '.ssh', 'd')}/*.conf\nHost *\n  Port 2555\n`);
    const r = resolveDestination('dirhost', { configPath: conf, home: h3 });
    const g = sshG('dirhost', conf);
    expect([r.hostName, r.port]).toEqual(['10.3.3.3', 2555]);
    expect([g.get('hostname')?.[0], Number(g.get('port')?.[0])]).toEqual([r.hostName, r.port]);
    // `ssh -F /dev/null`: no config at all.
    expect(resolveDestination('plain', { configPath: '/dev/null', home: h3, systemConfigPath: false }).hostName).toBe('plain');
    // /dev/zero would be read for ever; a FIFO with no writer would block for ever.
    const fifo = path.join(h3, 'fifo.conf');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const bad of ['/dev/zero', fifo]) {
      const c = path.join(h3, `inc-${path.basename(bad)}`);
      writeFileSync(c, `Include ${bad}\n`);
      expect(() => resolveDestination('x', { configPath: c, home: h3, systemConfigPath: false })).toThrow(/not a regular file/);
    }
  });
  it('resolves a ProxyJump chain hop by hop through the config, user@host:port hops included', () => {
    const r = resolveDestination('inner', { configPath: cfg, home });
    expect(r.proxyJump.map((h) => [h.user, h.hostName, h.port])).toEqual([
      ['jump', '198.51.100.1', 22],
      ['ops', 'mid.example', 2022],
    ]);
    // deep -> inner -> (bastion, mid): the first hop's own ProxyJump comes first, as `ssh -J` does.
    const d = resolveDestination('deep', { configPath: cfg, home });
    expect(d.proxyJump.map((h) => h.hostName)).toEqual(['198.51.100.1', 'mid.example', '10.9.9.9']);
    expect(d.proxyJump.every((h) => h.proxyJump.length === 0)).toBe(true);
  });
  it('detects ProxyJump loops', () => {
    expect(() => resolveDestination('loop1', { configPath: cfg, home })).toThrow(SshConfigError);
  });
  it('lists concrete hosts for import, skipping patterns', () => {
    const hosts = listConfigHosts({ configPath: cfg, home });
    const names = hosts.map((h) => h.alias);
    expect(names).toEqual(expect.arrayContaining(['web', 'prod-web', 'bastion', 'inner', 'deep', 'db-1']));
    expect(names).not.toContain('*');
    expect(names).not.toContain('db-?');
    expect(names).not.toContain('secret.corp');
    expect(hosts.find((h) => h.alias === 'web')?.resolved?.port).toBe(2222);
    expect(hosts.find((h) => h.alias === 'loop1')?.error).toMatch(/loop/);
  });
  it('warns about Match criteria it does not evaluate instead of silently applying them', () => {
    const f = path.join(dir, 'match.cfg');
    writeFileSync(f, 'Match exec "true"\n  User viaexec\nHost *\n  User plain\n');
    const r = resolveDestination('h', { configPath: f, home });
    expect(r.user).toBe('plain');
    expect(r.warnings.join('\n')).toMatch(/Match exec/);
  });
});
