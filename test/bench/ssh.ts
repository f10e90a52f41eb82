/**
 * SSH benchmark (issue 3, "Speed"): 10 steps on 3 lab hosts, i.e. 30 commands, through our sessions (one
 * connection per host, hosts in parallel, steps multiplexed as channels, every command wrapped in the remote
 * `timeout` with its PID marker) against the same 30 commands through sequential OpenSSH `ssh -F cfg host cmd`
 * (a fresh connection per command, which is how a shell loop or Ansible without ControlPersist runs them).
 * Both sides connect from scratch in the measured time and check the same outputs. Needs root (netns lab).
 */
import { spawn } from 'node:child_process';
import { resolveDestination } from '../../electron/ssh/config';
import { HostSession } from '../../electron/ssh/session';
import { startNetnsLab, type NetnsLab } from '../lab/netns';

export interface BenchRow {
  readonly measure: string;
  readonly ours: number;
  readonly peer: number;
  readonly ratio: number;
  readonly goal: number;
  readonly pass: boolean;
  readonly unit?: string;
}

const STEPS: readonly string[] = [
  'hostname',
  'uname -a',
  'cat /proc/uptime; date +%s%N',
  'cat /proc/loadavg',
  'ps -eo pid,stat,wchan:32,comm',
  'cat /proc/locks',
  'cat /proc/mounts',
  'id',
  'ls -l /proc/self/fd',
  'cat /proc/meminfo',
];
const HOSTS = ['lab-a', 'lab-b', 'lab-c'] as const;

function sshOnce(cfg: string, host: string, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', ['-F', cfg, host, cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`ssh ${host} ${cmd}: exit ${code}: ${Buffer.concat(err).toString()}`))));
  });
}

/** Ours: connect 3 sessions in parallel, run the 10 steps on each host in order, hosts in parallel. */
async function runOurs(lab: NetnsLab): Promise<{ ms: number; hostnames: string[] }> {
  const t0 = performance.now();
  const sessions = await Promise.all(HOSTS.map((h) => HostSession.connect(resolveDestination(h, { configPath: lab.configPath, home: lab.home }), { env: {} })));
  try {
    const hostnames = await Promise.all(
      sessions.map(async (s) => {
        let first = '';
        for (const [i, step] of STEPS.entries()) {
          const chunks: Buffer[] = [];
          const r = await s.exec({ script: step }, { timeoutSec: 10, onStdout: (b) => chunks.push(b) });
          if (r.status !== 'ok') throw new Error(`${s.name}: ${step}: ${r.status} ${r.note ?? ''}`);
          if (i === 0) first = Buffer.concat(chunks).toString().trim();
        }
        return first;
      }),
    );
    return { ms: performance.now() - t0, hostnames };
  } finally {
    for (const s of sessions) s.dispose();
  }
}

/** Peer: the same 30 commands, one `ssh -F cfg host cmd` after the other. */
async function runPeer(lab: NetnsLab): Promise<{ ms: number; hostnames: string[] }> {
  const t0 = performance.now();
  const hostnames: string[] = [];
  for (const h of HOSTS) {
    for (const [i, step] of STEPS.entries()) {
      const out = await sshOnce(lab.configPath, h, step);
      if (i === 0) hostnames.push(out.trim());
    }
  }
  return { ms: performance.now() - t0, hostnames };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchSsh(opts: { quick: boolean }): Promise<BenchRow[]> {
  const lab = await startNetnsLab();
  try {
    const rounds = opts.quick ? 1 : 3;
    const ours: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const o = await runOurs(lab);
      const p = await runPeer(lab);
      if (o.hostnames.join() !== p.hostnames.join() || o.hostnames.join() !== HOSTS.join()) {
        throw new Error(`bench: outputs differ: ours ${o.hostnames.join()} vs ssh ${p.hostnames.join()}`);
      }
      ours.push(o.ms);
      peer.push(p.ms);
    }
    const o = median(ours);
    const p = median(peer);
    const ratio = p / o;
    return [
      {
        measure: `ssh: ${STEPS.length} steps x ${HOSTS.length} hosts (${STEPS.length * HOSTS.length} commands), wall time incl. connect, median of ${rounds}`,
        ours: Math.round(o),
        peer: Math.round(p),
        ratio: Math.round(ratio * 10) / 10,
        goal: 5,
        pass: ratio >= 5,
        unit: 'ms',
      },
    ];
  } finally {
    await lab.teardown();
  }
}
