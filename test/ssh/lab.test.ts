/**
 * Many hosts: sshd "hosts" in network namespaces (test/lab/netns.ts), one reachable only through a jump host.
 * ProxyJump through one and two hops, per-hop host key checks, an unreachable address within ConnectTimeout,
 * a 3-host fan-out, and an sshd killed mid-step while the other hosts' steps complete.
 * Requires root (CI runs as root): without it the lab throws and these tests fail loudly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { resolveDestination, type ResolvedHost } from '../../electron/ssh/config';
import { ConnectTimeoutError, HostKeyNotTrustedError } from '../../electron/ssh/errors';
import type { ExecResult } from '../../electron/ssh/exec';
import { runOnHosts } from '../../electron/ssh/fanout';
import { HostSession } from '../../electron/ssh/session';
import type { UnknownHostKeyRequest } from '../../electron/ssh/transport';
import { startNetnsLab, type NetnsLab } from '../lab/netns';

let lab: NetnsLab;
const open: HostSession[] = [];

function resolve(alias: string): ResolvedHost {
  return resolveDestination(alias, { configPath: lab.configPath, home: lab.home });
}
async function connect(alias: string): Promise<HostSession> {
  const s = await HostSession.connect(resolve(alias), { env: {} });
  open.push(s);
  return s;
}
async function text(s: HostSession, script: string, timeoutSec = 10): Promise<{ r: ExecResult; out: string }> {
  const chunks: Buffer[] = [];
  const r = await s.exec({ script }, { timeoutSec, onStdout: (b) => chunks.push(b) });
  return { r, out: Buffer.concat(chunks).toString() };
}

beforeAll(async () => {
  lab = await startNetnsLab();
});
afterAll(async () => {
  for (const s of open) s.dispose();
  await lab?.teardown();
});

describe('ProxyJump', () => {
  it('the inner host is routable only from its jump host', async () => {
    // Checked with the hosts' own routing tables: no packet may leave the lab (the root namespace has a
    // default route to the outside, so we do not probe from here).
    const [a, b] = await Promise.all(['lab-a', 'lab-b'].map(connect));
    const fromA = await text(a!, `ip route get ${lab.hosts.d.ip} 2>&1; true`);
    expect(fromA.out).toMatch(/unreachable/i);
    const fromB = await text(b!, `ip route get ${lab.hosts.d.ip}`);
    expect(fromB.out).toMatch(/dev eth1/);
  });

  it('reaches it through one hop', async () => {
    const s = await connect('lab-d');
    expect(s.jumpChain).toEqual([`root@${lab.hosts.b.ip}`]);
    expect((await text(s, 'hostname')).out).toBe('lab-d\n');
    expect(s.clock?.samples).toBe(5);
  });

  it('reaches it through two hops, each hop resolved through the config', async () => {
    const r = resolve('lab-d2');
    expect(r.proxyJump.map((h) => h.alias)).toEqual(['lab-a', 'lab-b']);
    const s = await connect('lab-d2');
    expect(s.jumpChain).toEqual([`root@${lab.hosts.a.ip}`, `root@${lab.hosts.b.ip}`]);
    const { out } = await text(s, 'hostname; echo "$SSH_CONNECTION"');
    const [host, conn] = out.trim().split('\n');
    expect(host).toBe('lab-d');
    expect(conn!.split(' ')[0]).toBe(lab.hosts.d.ip.replace(/\.2$/, '.1')); // arrived from b's private link
  });

  it('verifies the jump host key too, before going through it', async () => {
    const empty = path.join(lab.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = resolve('lab-d');
    const hop = { ...r.proxyJump[0]!, userKnownHostsFiles: [empty], strictHostKeyChecking: 'ask' as const, batchMode: false };
    const asked: UnknownHostKeyRequest[] = [];
    await expect(HostSession.connect({ ...r, proxyJump: [hop] }, { env: {}, onUnknownHostKey: async (q) => (asked.push(q), false) })).rejects.toBeInstanceOf(HostKeyNotTrustedError);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ host: lab.hosts.b.ip, port: 22, role: 'jump host 1 of 1' });
  });
});

describe('unreachable host', () => {
  it('fails with a clear error within ConnectTimeout', async () => {
    const r = resolve('lab-dead');
    expect(r.connectTimeoutSec).toBe(1);
    const t0 = performance.now();
    const err = await HostSession.connect(r, { env: {} }).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(ConnectTimeoutError);
    expect((err as Error).message).toBe(`ssh: connect to host ${lab.deadIp} port 22: connection timed out during connect after 1 s (ConnectTimeout)`);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1800);
  });
});

describe('many hosts', () => {
  it('fans a step out to 3 hosts with per-host results and clock offsets', async () => {
    const sessions = await Promise.all(['lab-a', 'lab-b', 'lab-c'].map(connect));
    const results = await runOnHosts(sessions, async (s) => (await text(s, 'hostname')).out.trim(), { concurrency: 3 });
    expect(results.map((x) => (x.ok ? x.value : x.error.message))).toEqual(['lab-a', 'lab-b', 'lab-c']);
    expect(results.map((x) => x.host)).toEqual(['a', 'b', 'c'].map((n) => `root@${lab.hosts[n as 'a'].ip}`));
    for (const s of sessions) expect(s.clock!.uncertaintyNs).toBeLessThan(50_000_000n);
  });

  it('sshd killed mid-step: that step is connection-lost with its partial output, the others complete, then it reconnects', async () => {
    const [a, b, c] = await Promise.all(['lab-a', 'lab-b', 'lab-c'].map(connect));
    let killed = false;
    const bOut: Buffer[] = [];
    const steps = runOnHosts(
      [a!, b!, c!],
      async (s) => {
        if (s === b) {
          return s.exec(
            { script: 'echo partial-from-b; sleep 30; echo never' },
            {
              timeoutSec: 20,
              onStdout: (d) => {
                bOut.push(d);
                if (!killed) {
                  killed = true;
                  lab.killSshd('b');
                }
              },
            },
          );
        }
        return s.exec({ script: 'sleep 1; echo done' }, { timeoutSec: 20 });
      },
      { concurrency: 3 },
    );
    const results = await steps;
    const [ra, rb, rc] = results.map((x) => (x.ok ? x.value : undefined));
    expect(ra?.status).toBe('ok');
    expect(rc?.status).toBe('ok');
    expect(rb?.status).toBe('connection-lost');
    expect(Buffer.concat(bOut).toString()).toBe('partial-from-b\n');
    expect(Number(rb!.endedAtNs - rb!.startedAtNs) / 1e9).toBeLessThan(5);
    expect(b!.state).toBe('lost');

    // Bring the host back: the next exec reconnects by itself (with backoff) and measures the clock again.
    await lab.startSshd('b');
    const before = b!.clockHistory.length;
    const again = await text(b!, 'hostname');
    expect(again.r.status).toBe('ok');
    expect(again.out).toBe('lab-b\n');
    expect(b!.clockHistory.length).toBe(before + 1);
  });
});
