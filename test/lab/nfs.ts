/**
 * A real NFS "filer" for tests, in one host of a per-run netns lab (startNetnsLab): rpcbind, `rpc.statd -F
 * --no-notify` and `ganesha.nfsd -F` (VFS backend) exporting DIR/export as /export over NFSv3 + NFSv4 with NLM
 * (nlockmgr on 32803), in a private mount + UTS namespace of its own (own /run, /var/lib/nfs bind-mounted from
 * DIR/varlib), so nothing touches the machine's NFS state and parallel runs never collide. The host's sshd is
 * moved into that namespace (like ../shared/lab/lab-nfs.sh) so an SSH session on the filer sees the daemons'
 * /run (plain `rpcinfo -p` talks to rpcbind's socket) and /var/lib/nfs (statd's sm/ and state).
 *
 * Every daemon is a child of this process (nsenter and unshare exec in place), stopped by PID; the netns
 * teardown also kills whatever is left in the namespace. Only the lab's own bridge and namespaces see traffic.
 * Needs root and Debian packages nfs-ganesha nfs-ganesha-vfs rpcbind nfs-common (and libnfs-dev + gcc for the
 * nfslock client); throws a clear error otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabHostName, NetnsLab } from './netns';
import { alive, killPid, killTree, run, waitFor } from './proc';

const here = path.dirname(fileURLToPath(import.meta.url));

function need(cmd: string, pkg: string): void {
  if (run('sh', ['-c', `command -v ${cmd}`], { allowFail: true }).code !== 0) throw new Error(`test lab (nfs): '${cmd}' not found: apt-get install ${pkg}`);
}

export function requireNfsLab(): void {
  if (process.getuid?.() !== 0) throw new Error('test lab (nfs): must run as root (namespaces, mounts, NFS daemons); CI runs as root');
  need('nsenter', 'util-linux');
  need('unshare', 'util-linux');
  need('rpcbind', 'rpcbind');
  need('rpcinfo', 'rpcbind');
  need('rpc.statd', 'nfs-common');
  need('ganesha.nfsd', 'nfs-ganesha');
  const libdirs = readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu'));
  if (!libdirs.some((d) => existsSync(`/usr/lib/${d}/ganesha/libfsalvfs.so`))) throw new Error('test lab (nfs): ganesha VFS backend libfsalvfs.so not found: apt-get install nfs-ganesha-vfs');
}

/** Compile nfslock.c (libnfs raw NLM/NFSv4 client) once per source version into a cache dir. */
export function buildNfslock(): string {
  const src = path.join(here, 'nfslock.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const cache = path.join(os.tmpdir(), 'casefile-lab-cache');
  const bin = path.join(cache, `nfslock-${hash}`);
  if (existsSync(bin)) return bin;
  need('gcc', 'gcc');
  if (!existsSync('/usr/include/nfsc/libnfs.h')) throw new Error('test lab (nfs): libnfs headers not found: apt-get install libnfs-dev');
  mkdirSync(cache, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  run('gcc', ['-O2', '-Wall', '-o', tmp, src, '-lnfs']);
  renameSync(tmp, bin); // atomic: parallel test files never run a half-written binary
  return bin;
}

export interface NfslockResult {
  readonly code: number;
  readonly out: string;
}

/** Run the nfslock client inside a lab host's namespace, killed (by PID) at the deadline. */
export function nfslock(lab: NetnsLab, host: LabHostName, args: readonly string[], timeoutMs = 60_000): { pid: number; result: Promise<NfslockResult> } {
  const bin = buildNfslock();
  const c = spawn('ip', ['netns', 'exec', lab.hosts[host].ns, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  c.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const result = new Promise<NfslockResult>((resolve) => {
    const t = setTimeout(() => killPid(c.pid!, 'SIGKILL'), timeoutMs);
    c.once('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code ?? (signal ? 128 : -1), out });
    });
  });
  return { pid: c.pid!, result };
}

export interface NfsFilerOptions {
  /** Lab host the filer runs on (default c). */
  readonly host?: LabHostName;
  /** Grace period in seconds after a (re)start (default 10). */
  readonly grace?: number;
  /** NFSv4 lease in seconds (default 5). */
  readonly lease?: number;
  /** Start without a grace period (default true for the first start, so tests need not wait it out). */
  readonly graceless?: boolean;
}

export interface NfsFiler {
  readonly host: LabHostName;
  readonly ns: string;
  readonly ip: string;
  readonly dir: string;
  readonly exportDir: string;
  readonly ganeshaLogPath: string;
  ganeshaLog(): string;
  statdPid(): number | undefined;
  ganeshaPid(): number | undefined;
  statdStop(): Promise<void>;
  statdStart(): Promise<void>;
  /** SIGKILL simulates a crash (no orderly state clean-up); SIGTERM an orderly shutdown. */
  ganeshaStop(signal?: NodeJS.Signals): Promise<void>;
  /** (Re)start ganesha; `graceless: false` makes it enter its grace period. Resolves once it serves NLM. */
  ganeshaStart(o?: { graceless?: boolean }): Promise<void>;
  /** Resolves when ganesha logs "NOT IN GRACE" after its last start. */
  waitGraceOver(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startNfsFiler(lab: NetnsLab, o: NfsFilerOptions = {}): Promise<NfsFiler> {
  requireNfsLab();
  const hostName = o.host ?? 'c';
  const h = lab.hosts[hostName];
  const grace = o.grace ?? 10;
  const lease = o.lease ?? 5;
  const dir = mkdtempSync(path.join(os.tmpdir(), `casefile-nfs-${lab.id}-`));
  const exportDir = path.join(dir, 'export');
  const varlib = path.join(dir, 'varlib');
  for (const d of [exportDir, path.join(varlib, 'ganesha'), path.join(varlib, 'sm'), path.join(varlib, 'sm.bak'), path.join(dir, 'log')]) mkdirSync(d, { recursive: true });
  chmodSync(exportDir, 0o1777);
  // statd drops privileges to the owner of its sm/ directory (nfs-utils statd: the "statd" user on Debian).
  const statdUid = /^statd:x:(\d+):(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'));
  if (statdUid) for (const d of ['sm', 'sm.bak']) chownSync(path.join(varlib, d), Number(statdUid[1]), Number(statdUid[2]));
  const confPath = path.join(dir, 'ganesha.conf');
  const ganeshaLogPath = path.join(dir, 'log', 'ganesha.log');
  const writeConf = (graceless: boolean): void => {
    const t = readFileSync(path.join(here, 'ganesha.conf.in'), 'utf8');
    writeFileSync(confPath, t.replaceAll('@BIND@', '0.0.0.0').replaceAll('@EXPORT@', exportDir).replaceAll('@GRACE@', String(grace)).replaceAll('@LEASE@', String(lease)).replaceAll('@GRACELESS@', String(graceless)));
  };
  const logFd = (name: string): number => openSync(path.join(dir, 'log', name), 'a');
  const children: ChildProcess[] = [];
  let anchor: ChildProcess | undefined;
  let statd: ChildProcess | undefined;
  let ganesha: ChildProcess | undefined;
  let sshd: ChildProcess | undefined;
  let ganeshaLogMark = 0;
  const ganeshaLog = (): string => (existsSync(ganeshaLogPath) ? readFileSync(ganeshaLogPath, 'utf8') : '');
  const spawnLogged = (name: string, args: readonly string[]): ChildProcess => {
    const fd = logFd(`${name}.out`);
    const c = spawn(args[0]!, args.slice(1), { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    children.push(c);
    return c;
  };
  // nsenter without --pid execs in place: the child PID is the daemon itself.
  const inFiler = (args: readonly string[]): string[] => ['nsenter', '-t', String(anchor!.pid), '-m', '-n', '-u', ...args];
  const stopChild = async (c: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (!c?.pid || !alive(c.pid)) return;
    killPid(c.pid, signal);
    await waitFor(`pid ${c.pid} to exit`, () => !alive(c.pid!), 5000).catch(() => killTree(c.pid!, 'SIGKILL'));
  };
  const outTail = (name: string): string => {
    const f = path.join(dir, 'log', name);
    return existsSync(f) ? readFileSync(f, 'utf8').slice(-400) : '(no output)';
  };

  const rpcinfo = (): string => run('ip', ['netns', 'exec', h.ns, 'rpcinfo', '-p', h.ip], { allowFail: true }).stdout;
  const statdStart = async (): Promise<void> => {
    statd = spawnLogged('statd', inFiler(['rpc.statd', '-F', '--no-notify']));
    await waitFor('rpc.statd to register (100024 status)', () => / 100024 /.test(rpcinfo()) || !alive(statd!.pid!), 10_000).catch(() => undefined);
    if (!/ 100024 /.test(rpcinfo())) throw new Error(`test lab (nfs): rpc.statd did not register with rpcbind: ${outTail('statd.out')}`);
  };
  const ganeshaStart = async (so: { graceless?: boolean } = {}): Promise<void> => {
    writeConf(so.graceless ?? o.graceless ?? true);
    let g: ChildProcess | undefined;
    // Right after a SIGKILL the previous instance's pidfile lock can still be held for a moment ("Ganesha
    // already started"): retry a few times rather than fail the lab.
    for (let attempt = 1; attempt <= 5; attempt++) {
      ganeshaLogMark = ganeshaLog().length;
      ganesha = spawnLogged('ganesha', inFiler(['ganesha.nfsd', '-F', '-f', confPath, '-L', ganeshaLogPath, '-p', path.join(dir, 'ganesha.pid'), '-N', 'NIV_EVENT']));
      g = ganesha;
      const gp = g;
      await waitFor('ganesha to start serving', () => /NFS SERVER INITIALIZED/.test(ganeshaLog().slice(ganeshaLogMark)) || !alive(gp.pid!), 30_000).catch(() => undefined);
      if (alive(gp.pid!) || !/already started/.test(ganeshaLog().slice(ganeshaLogMark) + outTail('ganesha.out'))) break;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
    if (!g || !alive(g.pid!) || !/NFS SERVER INITIALIZED/.test(ganeshaLog().slice(ganeshaLogMark))) {
      throw new Error(`test lab (nfs): ganesha.nfsd did not start in ${h.ns}: ${ganeshaLog().slice(ganeshaLogMark).slice(-600)} ${outTail('ganesha.out')}`);
    }
    await waitFor('nlockmgr (100021) registration', () => / 100021 /.test(rpcinfo()), 10_000);
  };

  const stopAll = async (): Promise<void> => {
    for (const c of [sshd, ganesha, statd, anchor]) await stopChild(c);
    for (const c of children) if (c.pid && alive(c.pid)) killTree(c.pid, 'SIGKILL');
  };
  try {
    // The anchor holds the filer's mount + UTS namespaces: rpcbind in the foreground.
    const setup = [
      `hostname lab-${hostName}`,
      'mount -t tmpfs tmpfs /run',
      'mkdir -p /run/rpcbind /run/ganesha /run/sshd',
      `mount --bind ${varlib} /var/lib/nfs`,
      'exec rpcbind -f',
    ].join(' && ');
    anchor = spawnLogged('rpcbind', ['ip', 'netns', 'exec', h.ns, 'unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', setup]);
    await waitFor('rpcbind to answer in the filer namespace', () => / 100000 /.test(rpcinfo()) || !alive(anchor!.pid!), 10_000).catch(() => undefined);
    if (!/ 100000 /.test(rpcinfo())) throw new Error(`test lab (nfs): rpcbind did not start in ${h.ns}: ${outTail('rpcbind.out')}`);
    await statdStart();
    await ganeshaStart();
    // Move the host's sshd into the filer's namespaces (same config, host key and log as netns.ts wrote).
    const sshdConfig = path.join(lab.dir, `${hostName}.sshd_config`);
    if (!existsSync(sshdConfig)) throw new Error(`test lab (nfs): ${sshdConfig} missing: netns.ts layout changed`);
    lab.killSshd(hostName);
    // The killed listener can hold port 22 for a moment after SIGKILL: a new sshd then fails to bind and exits.
    // Retry until it listens (bounded), rather than wait on one that is already gone.
    const listening = (): boolean => existsSync(h.logPath) && readFileSync(h.logPath, 'utf8').includes('Server listening on 0.0.0.0 port 22');
    for (let attempt = 1; ; attempt++) {
      rmSync(h.logPath, { force: true });
      const c = spawnLogged('sshd', inFiler(['/usr/sbin/sshd', '-D', '-f', sshdConfig, '-E', h.logPath]));
      sshd = c;
      await waitFor(`sshd in the filer namespace of ${h.ns}`, () => listening() || !alive(c.pid!), 20_000);
      if (listening()) break;
      const why = existsSync(h.logPath) ? readFileSync(h.logPath, 'utf8').trim().split('\n').slice(-2).join(' | ') : '(no log)';
      if (attempt >= 10) throw new Error(`test lab (nfs): sshd did not start in the filer namespace of ${h.ns}: ${why}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  } catch (e) {
    await stopAll();
    throw e;
  }

  return {
    host: hostName,
    ns: h.ns,
    ip: h.ip,
    dir,
    exportDir,
    ganeshaLogPath,
    ganeshaLog,
    statdPid: () => (statd?.pid && alive(statd.pid) ? statd.pid : undefined),
    ganeshaPid: () => (ganesha?.pid && alive(ganesha.pid) ? ganesha.pid : undefined),
    statdStop: async () => {
      await stopChild(statd);
      statd = undefined;
    },
    statdStart,
    ganeshaStop: async (signal = 'SIGTERM') => {
      await stopChild(ganesha, signal);
      ganesha = undefined;
    },
    ganeshaStart,
    waitGraceOver: (timeoutMs) =>
      waitFor('ganesha to leave its grace period ("NOT IN GRACE")', () => {
        const t = ganeshaLog().slice(ganeshaLogMark);
        const all = [...t.matchAll(/NFS Server Now (NOT )?IN GRACE/g)];
        return all.length > 0 && all[all.length - 1]![1] !== undefined;
      }, timeoutMs, 200),
    stop: async () => {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
