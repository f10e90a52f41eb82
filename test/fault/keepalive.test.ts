/**
 * Fault: a link that dies silently during a long step. test/fault/linkcut.test.ts cuts the link under a step
 * with a short deadline, which ends it either way; here the step's deadline is a minute away, so only the SSH
 * keepalives (ServerAliveInterval/ServerAliveCountMax from the user's ssh config, as OpenSSH reads them) can
 * notice that nothing comes back. The step must end as connection-lost after about interval × (count + 1)
 * seconds, long before its deadline, with the output received before the cut kept; another host is untouched.
 * Requires root (netns lab, CI runs as root).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDestination } from '../../electron/ssh/config';
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

describe('a link that dies silently', () => {
  it('is noticed by the keepalives from ssh config: connection-lost long before the deadline, partial output kept', async () => {
    // The user's keepalive settings, first in the file (OpenSSH: the first value obtained wins), then the lab's hosts.
    const config = path.join(lab.dir, 'keepalive_config');
    writeFileSync(config, `ServerAliveInterval 1\nServerAliveCountMax 2\nInclude ${lab.configPath}\n`);
    const connect = async (alias: string): Promise<HostSession> => {
      const d = resolveDestination(alias, { configPath: config, home: lab.home });
      expect([d.serverAliveIntervalSec, d.serverAliveCountMax]).toEqual([1, 2]);
      const s = await HostSession.connect(d, { env: {} });
      open.push(s);
      return s;
    };
    const [a, c] = await Promise.all(['lab-a', 'lab-c'].map(connect));
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
