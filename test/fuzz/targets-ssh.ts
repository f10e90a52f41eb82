/**
 * Fuzz targets for the SSH side's parsers: ssh_config evaluation (resolveDestination over a mutated config file),
 * known_hosts lookup (KnownHosts.check over a mutated file), destination / ProxyJump strings, and the remote
 * process-tree listing. Seeds are real (fuzz-seeds/ssh, fuzz-seeds/proctree: see PROVENANCE.md).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveDestination, SshConfigError } from '../../electron/ssh/config';
import { DestinationSyntaxError, parseDestination, parseProxyJump } from '../../electron/ssh/destination';
import { parseProcessTree } from '../../electron/ssh/exec';
import { KnownHosts } from '../../electron/ssh/knownhosts';
import { mutate } from './mutate';
import { loadFixtures } from './check';
import { bytesOf, mutateText, textOf, type FuzzTarget } from './targets-harness';

const configSeeds = loadFixtures(['fuzz-seeds/ssh'], (n) => !n.includes('known_hosts')).map((s) => textOf(s.bytes));
const knownHostsSeed = textOf(loadFixtures(['fuzz-seeds/ssh'], (n) => n.includes('known_hosts'))[0]!.bytes);
const treeSeeds = loadFixtures(['fuzz-seeds/proctree']).map((s) => s.bytes);

/** Host names and destinations the seeds mention (Host patterns, HostName, ProxyJump hops, known_hosts names). */
const destinationSeeds: readonly string[] = (() => {
  const out = new Set<string>(['lab-c', 'filer', 'alice@lab-c.example:2222', '[::1]:22999', 'ssh://casefile@127.0.0.1:22999', 'fe80::1', 'none']);
  for (const t of configSeeds) {
    for (const m of t.matchAll(/^\s*(?:host|hostname|proxyjump)\s+(.+)$/gim)) for (const w of m[1]!.split(/\s+/)) out.add(w);
  }
  for (const l of knownHostsSeed.split('\n')) if (l && !l.startsWith('|')) out.add(l.split(' ')[0]!);
  return [...out];
})();

function destinationProblems(d: { host: string; user?: string; port?: number }): string[] {
  const p: string[] = [];
  if (typeof d.host !== 'string' || d.host === '' || d.host !== d.host.toLowerCase() || /[\s\x00-\x1f\x7f]/.test(d.host)) p.push(`host ${JSON.stringify(d.host)}`);
  if (d.user !== undefined && (d.user === '' || /[\s\x00-\x1f\x7f]/.test(d.user))) p.push(`user ${JSON.stringify(d.user)}`);
  if (d.port !== undefined && !(Number.isInteger(d.port) && d.port >= 1 && d.port <= 65535)) p.push(`port ${d.port}`);
  return p;
}

/** parseDestination / parseProxyJump: parts with a clean host and a port in range, or DestinationSyntaxError. */
export function destinationTarget(stats: { ok: number; refused: number }): FuzzTarget {
  return {
    name: 'ssh-destination',
    defaultN: 2000,
    make(rng) {
      const m = mutateText(destinationSeeds, rng, 2);
      const jump = rng.chance(0.3) ? `${m.text},${rng.pick(destinationSeeds)}` : m.text;
      return {
        input: bytesOf(jump),
        steps: m.steps,
        run: () => {
          try {
            const hops = jump === m.text ? [parseDestination(m.text)] : parseProxyJump(jump);
            stats.ok++;
            return hops.flatMap(destinationProblems);
          } catch (e) {
            if (e instanceof DestinationSyntaxError && e.message !== '') {
              stats.refused++;
              return [];
            }
            throw e;
          }
        },
      };
    },
  };
}

const sandbox = (): string => mkdtempSync(path.join(os.tmpdir(), 'casefile-fuzz-ssh-'));

/**
 * resolveDestination over a mutated config: a ResolvedHost, or DestinationSyntaxError / SshConfigError (the
 * documented refusals). Include paths are kept inside a scratch home: an absolute `Include /dev/*` would make the
 * resolver read device files, which says nothing about the parser.
 */
export function sshConfigTarget(stats: { resolved: number; refused: number; jumps: number }): FuzzTarget {
  let home: string | undefined;
  return {
    name: 'ssh-config',
    defaultN: 250,
    make(rng, i) {
      home ??= sandbox();
      const m = mutateText(configSeeds, rng, 3);
      const text = m.text.replace(/(include[\s="]+)(?=[/~])/gi, `$1${home}/inc/`);
      const dest = rng.pick(destinationSeeds);
      const file = path.join(home, `config-${i % 8}`);
      return {
        input: bytesOf(text),
        steps: [...m.steps, `dest ${dest}`],
        run: () => {
          writeFileSync(file, text);
          mkdirSync(path.join(home!, '.ssh', 'conf.d'), { recursive: true });
          try {
            const r = resolveDestination(dest, { configPath: file, systemConfigPath: false, home: home!, localUser: 'fuzz' });
            stats.resolved++;
            stats.jumps += r.proxyJump.length;
            const p: string[] = [];
            if (!Number.isInteger(r.port) || r.port < 0) p.push(`port ${r.port}`);
            if (typeof r.hostName !== 'string' || typeof r.user !== 'string') p.push('hostName/user not strings');
            if (!['yes', 'no', 'ask', 'accept-new'].includes(r.strictHostKeyChecking)) p.push(`StrictHostKeyChecking ${r.strictHostKeyChecking}`);
            if (r.identityFiles.some((f) => typeof f !== 'string')) p.push('identity file not a string');
            return p;
          } catch (e) {
            if ((e instanceof SshConfigError || e instanceof DestinationSyntaxError) && e.message !== '') {
              stats.refused++;
              return [];
            }
            throw e;
          }
        },
      };
    },
    dispose() {
      if (home) rmSync(home, { recursive: true, force: true });
      home = undefined;
    },
  };
}

const KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa'];

/** The host keys the keyscan seed holds, by type, as blobs. */
const realKeys: readonly { type: string; blob: Buffer }[] = knownHostsSeed
  .split('\n')
  .filter((l) => l.startsWith('['))
  .map((l) => l.split(' '))
  .map(([, type, b64]) => ({ type: type!, blob: Buffer.from(b64!, 'base64') }));

/** KnownHosts.check over a mutated known_hosts file: one of the five decisions with sane fields, never a throw. */
export function knownHostsTarget(stats: Record<'known' | 'unknown' | 'changed' | 'new-algorithm' | 'revoked', number>): FuzzTarget {
  let home: string | undefined;
  return {
    name: 'known-hosts',
    defaultN: 300,
    make(rng, i) {
      home ??= sandbox();
      const m = mutateText([knownHostsSeed, knownHostsSeed.replace(/^\[127/m, '@revoked [127'), knownHostsSeed.replace(/^\[localhost/m, '@cert-authority [localhost')], rng, 2);
      const key = rng.chance(0.8) ? rng.pick(realKeys) : { type: rng.pick(KEY_TYPES), blob: Buffer.from(bytesOf(m.text.slice(0, 60))) };
      const host = rng.pick(['127.0.0.1', 'localhost', 'LocalHost', 'lab-c', '::1']);
      const port = rng.pick([22, 22999, 2222]);
      const file = path.join(home, `known_hosts-${i % 8}`);
      const alias = rng.chance(0.1) ? '[localhost]:22999' : undefined;
      return {
        input: m.input,
        steps: [...m.steps, `${host}:${port} ${key.type}`],
        run: () => {
          writeFileSync(file, m.text);
          const kh = new KnownHosts({ userFiles: [file], ...(alias ? { hostKeyAlias: alias } : {}) });
          const r = kh.check(host, port, key.type, key.blob);
          const p: string[] = [];
          if (!(r.result in stats)) return [`result ${String(r.result)}`];
          stats[r.result]++;
          if (!Array.isArray(r.notes) || r.notes.some((n) => typeof n !== 'string')) p.push('notes not strings');
          if ('line' in r && !(Number.isInteger(r.line) && r.line >= 1)) p.push(`line ${r.line}`);
          if ('fingerprint' in r && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(r.fingerprint)) p.push(`fingerprint ${r.fingerprint}`);
          return p;
        },
      };
    },
    dispose() {
      if (home) rmSync(home, { recursive: true, force: true });
      home = undefined;
    },
  };
}

/** parseProcessTree over mutated real listings: every process has integer pid/ppid (and tracer), strings elsewhere. */
export function processTreeTarget(stats: { processes: number }): FuzzTarget {
  return {
    name: 'ssh-process-tree',
    defaultN: 600,
    make(rng) {
      const base = rng.pick(treeSeeds);
      const m = rng.chance(0.1) ? { bytes: base, steps: ['none'] } : mutate(base, rng, treeSeeds, undefined, 3);
      const text = textOf(m.bytes);
      return {
        input: m.bytes,
        steps: m.steps,
        run: () => {
          const procs = parseProcessTree(text);
          stats.processes += procs.length;
          const p: string[] = [];
          for (const q of procs) {
            if (!Number.isSafeInteger(q.pid) || q.pid < 0) p.push(`pid ${q.pid}`);
            if (!Number.isSafeInteger(q.ppid) || q.ppid < 0) p.push(`ppid ${q.ppid} (pid ${q.pid})`);
            if (q.tracedBy !== undefined && !(Number.isSafeInteger(q.tracedBy) && q.tracedBy >= 0)) p.push(`tracedBy ${q.tracedBy}`);
            if (typeof q.comm !== 'string' || typeof q.state !== 'string' || typeof q.wchan !== 'string') p.push('comm/state/wchan not strings');
            if (p.length >= 5) break;
          }
          return p;
        },
      };
    },
  };
}
