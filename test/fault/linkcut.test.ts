/**
 * Fault: the network link to a lab host is cut while a capture-like command streams its output (issue 7).
 * test/ssh/lab.test.ts covers an sshd killed mid-step (the TCP connection is reset); here the link goes down
 * instead (`ip link set <veth> down` on the root side of the host's veth), so no RST or FIN ever arrives and
 * only Casefile's own deadline can end the step. The step must end within its deadline as timed-out or
 * connection-lost, keep the output received before the cut, and leave the other hosts working; once the
 * link is back, the next step on that host reconnects. Then the same silent cut under a step whose deadline is a
 * minute away: only the SSH keepalives (ServerAliveInterval/ServerAliveCountMax from the user's ssh config, as
 * OpenSSH reads them) can notice it; the step must end as connection-lost after about interval × (count + 1)
 * seconds with the output received before the cut kept, another host untouched.
 * Requires root (netns lab, CI runs as root).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDestination } from '../../electron/ssh/config';
import type { ExecResult } from '../../electron/ssh/exec';
import { HostSession } from '../../electron/ssh/session';
import { startNetnsLab, type NetnsLab } from '../lab/netns';
import { run } from '../lab/proc';

let lab: NetnsLab;
const open: HostSession[] = [];
let cutLink: string | undefined;

beforeAll(async () => {
  lab = await startNetnsLab();
});
afterAll(async () => {
  if (cutLink) run('ip', ['link', 'set', cutLink, 'up'], { allowFail: true });
  for (const s of open) s.dispose();
  await lab?.teardown();
});

async function connect(alias: string): Promise<HostSession> {
  const s = await HostSession.connect(resolveDestination(alias, { configPath: lab.configPath, home: lab.home }), { env: {} });
  open.push(s);
  return s;
}

/** A capture-like stream: a line every 50 ms with a sequence number, as `tcpdump -l` would print packets. */
const STREAM = 'i=0; while :; do i=$((i+1)); echo "pkt $i $(date +%s%N)"; sleep 0.05; done';

describe('network link cut during a capture', () => {
  it('the step ends within its deadline with the partial output kept; other hosts go on; the host reconnects after', async () => {
    const [a, c] = await Promise.all(['lab-a', 'lab-c'].map(connect));
    // The root-namespace end of host a's veth (netns.ts names it `${id}a`): taking it down drops every packet both ways.
    cutLink = `${lab.id}a`;
    const TIMEOUT = 4;
    const LOCAL_GRACE = 2; // electron/ssh/exec.ts: the local deadline is the remote timeout + 2 s
    const out: Buffer[] = [];
    let cutAt = 0;
    let cutLines = 0;
    const step = a!.exec(
      { script: STREAM },
      {
        timeoutSec: TIMEOUT,
        onStdout: (b) => {
          out.push(b);
          const lines = Buffer.concat(out).toString().split('\n').length - 1;
          if (!cutAt && lines >= 10) {
            cutAt = performance.now();
            cutLines = lines;
            run('ip', ['link', 'set', cutLink!, 'down']);
          }
        },
      },
    );
    // Another host's step runs through the cut untouched.
    const other: Buffer[] = [];
    const otherStep = c!.exec({ script: 'sleep 1; hostname' }, { timeoutSec: 10, onStdout: (b) => other.push(b) });
    const r: ExecResult = await step;
    const secs = Number(r.endedAtNs - r.startedAtNs) / 1e9;

    expect(cutAt).toBeGreaterThan(0);
    expect(['timed-out', 'connection-lost']).toContain(r.status);
    expect(secs).toBeLessThanOrEqual(TIMEOUT + LOCAL_GRACE + 0.5);
    // The partial output is kept: every line received before the cut, in order, none invented.
    const lines = Buffer.concat(out).toString().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(cutLines);
    expect(lines.map((l) => Number(l.split(' ')[1]))).toEqual(lines.map((_, i) => i + 1));
    expect(r.stdoutBytes).toBe(Buffer.concat(out).length);

    const o = await otherStep;
    expect(o.status).toBe('ok');
    expect(Buffer.concat(other).toString()).toBe('lab-c\n');

    // The link comes back: the next step on host a works (same session object, reconnecting if it had to).
    run('ip', ['link', 'set', cutLink, 'up']);
    cutLink = undefined;
    const again: Buffer[] = [];
    const next = await a!.exec({ script: 'hostname' }, { timeoutSec: 10, onStdout: (b) => again.push(b) });
    expect(next.status).toBe('ok');
    expect(Buffer.concat(again).toString()).toBe('lab-a\n');
  }, 60_000);
});

describe('a link that dies silently', () => {
  it('is noticed by the keepalives from ssh config: connection-lost long before the deadline, partial output kept', async () => {
    // The user's keepalive settings, first in the file (OpenSSH: the first value obtained wins), then the lab's hosts.
    const config = path.join(lab.dir, 'keepalive_config');
    writeFileSync(config, `ServerAliveInterval 1\nServerAliveCountMax 2\nInclude ${lab.configPath}\n`);
    const connectWithKeepalive = async (alias: string): Promise<HostSession> => {
      const d = resolveDestination(alias, { configPath: config, home: lab.home });
      expect([d.serverAliveIntervalSec, d.serverAliveCountMax]).toEqual([1, 2]);
      const s = await HostSession.connect(d, { env: {} });
      open.push(s);
      return s;
    };
    const [a, c] = await Promise.all(['lab-a', 'lab-c'].map(connectWithKeepalive));
    const DEADLINE = 60;
    const out: Buffer[] = [];
    let cutAt = 0;
    const step = a!.exec(
      { script: 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.1; done' },
      {
        timeoutSec: DEADLINE,
        onStdout: (b) => {
          out.push(b);
          if (!cutAt && Buffer.concat(out).toString().split('\n').length > 5) {
            cutAt = performance.now();
            cutLink = `${lab.id}a`; // the root-namespace end of host a's veth: no RST or FIN will ever arrive
            run('ip', ['link', 'set', cutLink, 'down']);
          }
        },
      },
    );
    const other = c!.exec({ script: 'sleep 2; hostname' }, { timeoutSec: 20 });
    const r = await step;
    const noticedAfter = (performance.now() - cutAt) / 1000;
    expect(cutAt).toBeGreaterThan(0);
    expect(r.status).toBe('connection-lost');
    // interval 1 s × (count 2 + 1) = 3 s, plus one interval of phase; far below the 60 s deadline.
    expect(noticedAfter).toBeGreaterThan(1.5);
    expect(noticedAfter).toBeLessThan(10);
    const lines = Buffer.concat(out).toString().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines).toEqual(lines.map((_, i) => `line ${i + 1}`));
    expect((await other).status).toBe('ok');
  }, 60_000);
});
