/**
 * Several sshd "hosts" in network namespaces, named uniquely per run (cf<hex>-a...) so parallel runs never
 * collide. Topology (no default routes anywhere, nothing leaves the machine):
 *
 *   root ns (.1) ── bridge cf<id>br ── a (.11)  b (.12)  c (.13)        net1 = 10.X.Y.0/24
 *                                                 └── b:eth1 (.1) ── d:eth0 (.2)   net2 = 10.X.Y+1.0/24
 *
 * d is reachable only through b (one hop) or a,b (two hops). Each sshd runs in its own UTS namespace so
 * `hostname` answers the host's name. Needs root and iproute2; otherwise it throws a clear error
 * (tests must fail loudly, never skip).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keygen, requireSshd, sshdConfig } from './sshd';
import { alive, killTree, run, waitFor } from './proc';

export type LabHostName = 'a' | 'b' | 'c' | 'd';

export interface NetnsHost {
  readonly name: LabHostName;
  /** The alias in the lab's ssh config ("lab-a"...). */
  readonly alias: string;
  readonly ns: string;
  readonly ip: string;
  readonly logPath: string;
  readonly hostKeyPath: string;
  pid(): number | undefined;
}

export interface NetnsLab {
  readonly id: string;
  readonly dir: string;
  /** HOME for the client side: ~/.ssh/config and known_hosts live here. */
  readonly home: string;
  /** ssh config usable both by resolveDestination({configPath}) and `ssh -F`. */
  readonly configPath: string;
  readonly knownHostsPath: string;
  readonly clientKeyPath: string;
  readonly hosts: Readonly<Record<LabHostName, NetnsHost>>;
  /** An address on net1 where nothing answers (ARP fails): for unreachable-host tests. */
  readonly deadIp: string;
  /** SIGKILL a host's sshd and all its sessions (the link drops mid-command). */
  killSshd(name: LabHostName): void;
  startSshd(name: LabHostName): Promise<void>;
  teardown(): Promise<void>;
}

export function requireNetnsLab(): void {
  if (process.getuid?.() !== 0) throw new Error('test lab (netns): must run as root (network namespaces, bridge, sshd); CI runs as root');
  if (spawnSync('ip', ['netns', 'list']).status !== 0) throw new Error('test lab (netns): `ip netns` unavailable: apt-get install iproute2');
  if (spawnSync('unshare', ['--version']).status !== 0) throw new Error('test lab (netns): unshare missing: apt-get install util-linux');
  requireSshd();
}

function pickSubnets(): [string, string] {
  const used = run('ip', ['-4', 'addr']).stdout + run('ip', ['-4', 'route']).stdout;
  for (let i = 0; i < 50; i++) {
    const x = 200 + (randomBytes(1)[0]! % 50);
    const y = randomBytes(1)[0]! & 0xfe;
    const n1 = `10.${x}.${y}`;
    const n2 = `10.${x}.${y + 1}`;
    if (!used.includes(`${n1}.`) && !used.includes(`${n2}.`)) return [n1, n2];
  }
  throw new Error('test lab (netns): no free 10.x.y.0/23 found');
}

/** Best-effort synchronous teardown, also used from process 'exit' when a run is interrupted. */
function teardownSync(id: string, namespaces: readonly string[], pids: readonly number[]): void {
  for (const p of pids) killTree(p, 'SIGKILL');
  for (const ns of namespaces) {
    const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    for (const p of (r.stdout ?? '').split(/\s+/).filter(Boolean)) killTree(Number(p), 'SIGKILL');
    spawnSync('ip', ['netns', 'del', ns]);
  }
  spawnSync('ip', ['link', 'del', `${id}br`]);
}

export async function startNetnsLab(): Promise<NetnsLab> {
  requireNetnsLab();
  mkdirSync('/run/sshd', { recursive: true });
  const id = `cf${randomBytes(3).toString('hex')}`;
  const [net1, net2] = pickSubnets();
  const dir = mkdtempSync(path.join(os.tmpdir(), `casefile-${id}-`));
  const home = path.join(dir, 'home');
  const sshDir = path.join(home, '.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const clientKeyPath = path.join(sshDir, 'id_ed25519');
  keygen(clientKeyPath, 'ed25519');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyPath}.pub`));
  const br = `${id}br`;
  const names: LabHostName[] = ['a', 'b', 'c', 'd'];
  const nsOf = (n: LabHostName): string => `${id}-${n}`;
  const ipOf: Record<LabHostName, string> = { a: `${net1}.11`, b: `${net1}.12`, c: `${net1}.13`, d: `${net2}.2` };
  const children = new Map<LabHostName, ChildProcess>();
  const namespaces = names.map(nsOf);
  const onExit = (): void => teardownSync(id, namespaces, [...children.values()].map((c) => c.pid!).filter(Boolean));
  process.once('exit', onExit);

  try {
    run('ip', ['link', 'add', br, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${net1}.1/24`, 'dev', br]);
    run('ip', ['link', 'set', br, 'up']);
    for (const n of names) {
      const ns = nsOf(n);
      run('ip', ['netns', 'add', ns]);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    for (const n of ['a', 'b', 'c'] as const) {
      const ns = nsOf(n);
      run('ip', ['link', 'add', `${id}${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      run('ip', ['link', 'set', `${id}${n}`, 'master', br, 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${ipOf[n]}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
    // b <-> d private link: d has no other interface, so only b can reach it.
    run('ip', ['link', 'add', `${id}x`, 'type', 'veth', 'peer', 'name', `${id}y`]);
    run('ip', ['link', 'set', `${id}x`, 'netns', nsOf('b'), 'name', 'eth1']);
    run('ip', ['link', 'set', `${id}y`, 'netns', nsOf('d'), 'name', 'eth0']);
    run('ip', ['-n', nsOf('b'), 'addr', 'add', `${net2}.1/24`, 'dev', 'eth1']);
    run('ip', ['-n', nsOf('b'), 'link', 'set', 'eth1', 'up']);
    run('ip', ['-n', nsOf('d'), 'addr', 'add', `${net2}.2/24`, 'dev', 'eth0']);
    run('ip', ['-n', nsOf('d'), 'link', 'set', 'eth0', 'up']);
  } catch (e) {
    onExit();
    process.removeListener('exit', onExit);
    throw new Error(`test lab (netns): network setup failed: ${(e as Error).message}`);
  }

  const hosts = {} as Record<LabHostName, NetnsHost>;
  let known = '';
  for (const n of names) {
    const hostKeyPath = path.join(dir, `${n}.hostkey`);
    keygen(hostKeyPath, 'ed25519');
    writeFileSync(
      path.join(dir, `${n}.sshd_config`),
      sshdConfig({ port: 22, listen: '0.0.0.0', hostKey: hostKeyPath, pidFile: path.join(dir, `${n}.pid`), authorizedKeys }),
    );
    const pub = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
    known += `${ipOf[n]} ${pub[0]} ${pub[1]}\n`;
    hosts[n] = { name: n, alias: `lab-${n}`, ns: nsOf(n), ip: ipOf[n], logPath: path.join(dir, `${n}.log`), hostKeyPath, pid: () => children.get(n)?.pid };
  }
  const knownHostsPath = path.join(sshDir, 'known_hosts');
  writeFileSync(knownHostsPath, known);
  const configPath = path.join(sshDir, 'config');
  writeFileSync(
    configPath,
    [
      ...(['a', 'b', 'c'] as const).map((n) => `Host lab-${n}\n  HostName ${ipOf[n]}\n`),
      `Host lab-d\n  HostName ${ipOf.d}\n  ProxyJump lab-b\n`,
      `Host lab-d2\n  HostName ${ipOf.d}\n  ProxyJump lab-a,lab-b\n`,
      `Host lab-dead\n  HostName ${net1}.99\n  ConnectTimeout 1\n`,
      `Host *\n  User root\n  IdentityFile ${clientKeyPath}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${knownHostsPath}\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n`,
    ].join(''),
  );

  const startOne = async (n: LabHostName): Promise<void> => {
    const h = hosts[n];
    const listening = (): boolean => existsSync(h.logPath) && readFileSync(h.logPath, 'utf8').includes('Server listening on 0.0.0.0 port 22');
    // A restart right after a kill can find port 22 still held for a moment: the new sshd then exits; retry (bounded).
    for (let attempt = 1; ; attempt++) {
      rmSync(h.logPath, { force: true });
      // ip netns exec and unshare exec in place, so the child PID ends up being sshd itself.
      const c = spawn('ip', ['netns', 'exec', h.ns, 'unshare', '--uts', 'sh', '-c', `hostname lab-${n}; exec /usr/sbin/sshd -D -f ${path.join(dir, `${n}.sshd_config`)} -E ${h.logPath}`], { stdio: 'ignore' });
      children.set(n, c);
      await waitFor(`sshd in ${h.ns} to listen`, () => listening() || !alive(c.pid!), 20_000).catch(() => undefined);
      if (listening()) return;
      if (attempt >= 10 || alive(c.pid!)) {
        throw new Error(`test lab (netns): sshd in ${h.ns} did not listen: ${existsSync(h.logPath) ? readFileSync(h.logPath, 'utf8').slice(-300) : 'no log'}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  try {
    await Promise.all(names.map(startOne));
  } catch (e) {
    onExit();
    process.removeListener('exit', onExit);
    throw e;
  }

  return {
    id,
    dir,
    home,
    configPath,
    knownHostsPath,
    clientKeyPath,
    hosts,
    deadIp: `${net1}.99`,
    killSshd: (n) => {
      const c = children.get(n);
      if (c?.pid) killTree(c.pid, 'SIGKILL');
      children.delete(n);
    },
    startSshd: startOne,
    teardown: async () => {
      process.removeListener('exit', onExit);
      const pids = [...children.values()].map((c) => c.pid!).filter(Boolean);
      for (const p of pids) killTree(p, 'SIGTERM');
      await waitFor('lab sshd to exit', () => pids.every((p) => !alive(p)), 2000).catch(() => undefined);
      teardownSync(id, namespaces, pids);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
