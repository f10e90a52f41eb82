/**
 * A real OpenSSH server for one test file: /usr/sbin/sshd in the foreground (-D) on a free 127.0.0.1 port,
 * its own host key, a client key, and a temporary HOME whose ~/.ssh/config names it by an alias.
 * LogLevel DEBUG so tests can read what the server saw (e.g. that no "userauth-request" ever arrived).
 * Killed by PID (plus the per-connection children it forked) in stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive, canConnect, freePort, killTree, run, waitFor } from './proc';

export interface SshdOptions {
  /** Passphrase for the client key (default none). */
  readonly passphrase?: string;
  /** Host key algorithm (default ed25519). */
  readonly hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** Record the host key in HOME/.ssh/known_hosts (default true). */
  readonly knownHosts?: boolean;
  /** Let the server offer password authentication (default no). */
  readonly passwordAuth?: boolean;
  /** Extra sshd_config lines. */
  readonly extraConfig?: string;
  /** Alias written to ~/.ssh/config (default "lab"). */
  readonly alias?: string;
}

export interface SshdLab {
  readonly dir: string;
  readonly port: number;
  readonly home: string;
  readonly alias: string;
  readonly user: string;
  readonly hostKeyPath: string;
  readonly clientKeyPath: string;
  readonly knownHostsPath: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly pid: () => number | undefined;
  log(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  restartWithNewHostKey(type?: 'ed25519' | 'ecdsa' | 'rsa'): Promise<void>;
  /** Kill the listener and every sshd child (live sessions drop), SIGKILL. */
  kill(): void;
  /** Remove the temp dir (after stop). */
  cleanup(): Promise<void>;
}

export function requireSshd(): void {
  if (!existsSync('/usr/sbin/sshd')) throw new Error('test lab: /usr/sbin/sshd not found: apt-get install openssh-server');
  if (!existsSync('/usr/bin/ssh-keygen')) throw new Error('test lab: ssh-keygen not found: apt-get install openssh-client');
}

export function keygen(file: string, type: string, passphrase = '', comment = 'casefile-lab'): void {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  run('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', comment, '-f', file]);
}

export function sshdConfig(o: { port: number; listen: string; hostKey: string; pidFile: string; authorizedKeys: string; passwordAuth?: boolean; extra?: string }): string {
  return [
    `Port ${o.port}`,
    `ListenAddress ${o.listen}`,
    `HostKey ${o.hostKey}`,
    `PidFile ${o.pidFile}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'PermitRootLogin yes',
    `PasswordAuthentication ${o.passwordAuth ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'LogLevel DEBUG',
    'MaxStartups 50',
    'Subsystem sftp internal-sftp',
    // Sessions get the lab's own HOME, so the machine's root dotfiles (a ~/.bashrc running `pyenv init`,
    // which waits up to 60 s on a rehash lock left by any killed shell) cannot slow down or hang lab commands.
    `SetEnv HOME=${path.dirname(o.pidFile)}`,
    o.extra ?? '',
    '',
  ].join('\n');
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdLab> {
  requireSshd();
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on
  const dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-sshd-'));
  const home = path.join(dir, 'home');
  const sshDir = path.join(home, '.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const hostKeyPath = path.join(dir, 'ssh_host_key');
  const clientKeyPath = path.join(sshDir, 'id_ed25519');
  const knownHostsPath = path.join(sshDir, 'known_hosts');
  const configPath = path.join(sshDir, 'config');
  const logPath = path.join(dir, 'sshd.log');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  const sshdConfigPath = path.join(dir, 'sshd_config');
  const alias = opts.alias ?? 'lab';
  const user = os.userInfo().username;
  keygen(hostKeyPath, opts.hostKeyType ?? 'ed25519');
  keygen(clientKeyPath, 'ed25519', opts.passphrase ?? '');
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyPath}.pub`));
  const port = await freePort();
  writeFileSync(
    sshdConfigPath,
    sshdConfig({ port, listen: '127.0.0.1', hostKey: hostKeyPath, pidFile: path.join(dir, 'sshd.pid'), authorizedKeys, passwordAuth: opts.passwordAuth, extra: opts.extraConfig }),
  );
  writeFileSync(configPath, `Host ${alias}\n  HostName 127.0.0.1\n  Port ${port}\n  User ${user}\n  IdentityFile ~/.ssh/id_ed25519\n  IdentitiesOnly yes\n  ConnectTimeout 5\n`);
  chmodSync(configPath, 0o600);
  const recordHostKey = (): void => {
    const pub = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
    writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}\n`);
  };
  if (opts.knownHosts !== false) recordHostKey();
  else writeFileSync(knownHostsPath, '');

  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const c = spawn('/usr/sbin/sshd', ['-D', '-f', sshdConfigPath, '-E', logPath], { stdio: 'ignore' });
    child = c;
    let exited = false;
    c.once('exit', () => {
      exited = true;
    });
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000) {
      if (exited) break;
      if (await canConnect('127.0.0.1', port)) return;
      await new Promise((r) => setTimeout(r, 30));
    }
    const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').slice(-5).join(' | ') : '(no log)';
    killTree(c.pid!);
    throw new Error(`test lab: sshd did not start on 127.0.0.1:${port}: ${tail}`);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c?.pid) return;
    killTree(c.pid, 'SIGTERM');
    await waitFor(`sshd ${c.pid} to exit`, () => !alive(c.pid!), 3000).catch(() => killTree(c.pid!, 'SIGKILL'));
  };
  await start();
  return {
    dir,
    port,
    home,
    alias,
    user,
    hostKeyPath,
    clientKeyPath,
    knownHostsPath,
    configPath,
    logPath,
    pid: () => child?.pid,
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    start,
    stop,
    kill: () => {
      if (child?.pid) killTree(child.pid, 'SIGKILL');
    },
    restartWithNewHostKey: async (type) => {
      await stop();
      keygen(hostKeyPath, type ?? opts.hostKeyType ?? 'ed25519');
      await start();
    },
    cleanup: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
