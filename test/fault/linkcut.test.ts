/**
 * Fault: the network link to a lab host is cut while a capture-like command streams its output (issue 7).
 * test/ssh/lab.test.ts covers an sshd killed mid-step (the TCP connection is reset); here the link goes down
 * instead (`ip link set <veth> down` on the root side of the host's veth), so no RST or FIN ever arrives and
 * only Casefile's own deadline can end the step. The step must end within its deadline as timed-out or
 * connection-lost, keep the output received before the cut, and leave the other hosts working; once the
 * link is back, the next step on that host reconnects. Then the same silent cut under a step whose deadline is a
 * minute away: only the SSH keepalives (ServerAliveInterval/ServerAliveCountMax from the user's ssh config, as
 * OpenSSH reads them) can notice it; the step must end as connection-lost after about interval × (count + 1)
 * seconds with the output received before the cut kept, another host untouched. Last, a real capture step run
 * as the app runs one (`exec.run` through the Backend: tcpdump writing pcap to stdout, streamed into a pcap
 * artifact): the link is cut mid-capture; the step is reported timed-out or connection-lost, and the pcap
 * received before the cut is stored byte for byte, is a readable capture (global header, whole records, at
 * most a cut last one), and is parsed (marked partial if its last record was cut).
 * Requires root (netns lab, CI runs as root).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend } from '../../electron/api/backend';
import { LOCAL_GRACE_SEC } from '../../electron/ssh/exec';
import { openDb } from '../../electron/store/db';
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
    // The note blames the silent link, not the remote process (the host did not answer the snapshot either).
    if (r.status === 'timed-out') {
      expect(r.note).toMatch(/did not answer a helper command either: the link or the host is likely down/);
      expect(r.note).not.toMatch(/unkillable/);
    }
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

/** Walk a classic pcap (little-endian, µs): the global header, then records; a last record may be cut short. */
function walkPcap(b: Buffer): { records: number; cutTail: number; linkType: number } {
  expect(b.length).toBeGreaterThanOrEqual(24);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  const linkType = b.readUInt32LE(20);
  let o = 24;
  let records = 0;
  let last = 0;
  while (o + 16 <= b.length) {
    const ts = b.readUInt32LE(o);
    const incl = b.readUInt32LE(o + 8);
    const orig = b.readUInt32LE(o + 12);
    // Sane records: a timestamp from this decade onward, in order; captured length within the original length.
    expect(ts).toBeGreaterThan(1.6e9);
    expect(ts).toBeGreaterThanOrEqual(last);
    expect(incl).toBeLessThanOrEqual(orig);
    expect(incl).toBeLessThanOrEqual(262144);
    if (o + 16 + incl > b.length) break;
    last = ts;
    o += 16 + incl;
    records++;
  }
  return { records, cutTail: b.length - o, linkType };
}

describe('network link cut during a real capture step', () => {
  it('the capture step run through the Backend ends timed-out or connection-lost, the pcap received before the cut is stored, readable and parsed', async () => {
    // The test before leaves host a's link down (afterAll brings it up): up again, this test cuts it itself.
    if (cutLink) run('ip', ['link', 'set', cutLink, 'up']);
    cutLink = undefined;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-fault-linkcut-'));
    const dbFile = path.join(dir, 'casefile.db');
    const db = openDb(dbFile);
    let stepStart = 0;
    const received: Buffer[] = [];
    let atCut = -1;
    let cutAt = 0;
    // The raw stdout chunks as the runner streams them into the artifact (the desktop passes them on as step.output).
    const backend = new Backend({
      db,
      dbFile,
      home: lab.home,
      onOutput: ({ stream, chunk }) => {
        if (stream !== 'stdout') return;
        received.push(Buffer.from(chunk));
        const n = received.reduce((a, b) => a + b.length, 0);
        if (atCut < 0 && n >= 1000) {
          atCut = n;
          cutAt = performance.now();
          cutLink = `${lab.id}a`; // host a's veth, root side: the capture's packets stop reaching us, no RST or FIN
          run('ip', ['link', 'set', cutLink, 'down']);
        }
      },
    });
    try {
      const c = (await backend.call('cases.create', { name: 'linkcut' })) as { id: number };
      const h = (await backend.call('hosts.add', { caseId: c.id, destination: 'lab-a' })) as { id: number };
      const TIMEOUT_MS = 8000; // room for tcpdump to start and packets to flow on a loaded machine
      let stepId = 0;
      // Traffic to capture inside host a (UDP datagrams on its loopback, bounded so nothing outlives the test), and
      // tcpdump writing pcap to stdout packet by packet, as the capture playbooks run it.
      stepStart = performance.now();
      ({ stepId } = (await backend.call('exec.run', {
        caseId: c.id,
        hostId: h.id,
        argv: ['sh', '-c', "bash -c 'for i in $(seq 800); do echo pkt$i >/dev/udp/127.0.0.1/9; sleep 0.01; done' & exec tcpdump -U -i lo -s 0 -w - udp port 9 2>/dev/null"],
        timeoutMs: TIMEOUT_MS,
        kind: 'pcap',
      })) as { stepId: number });
      expect(stepId).toBeGreaterThan(0);
      type Detail = { steps: { id: number; status: string; error?: string; startedNs?: string; endedNs?: string }[]; artifacts: { id: number; stepId?: number; stream?: string; kind: string; parseStatus: string; parseWarnings: string[]; size: number; complete: boolean }[] };
      const detail = async (): Promise<Detail> => (await backend.call('cases.get', { caseId: c.id })) as Detail;
      let d = await detail();
      const settled = (x: Detail): boolean => {
        const st = x.steps.find((s) => s.id === stepId);
        const out = x.artifacts.find((a) => a.stepId === stepId && a.stream === 'stdout');
        return !!st && !['pending', 'running'].includes(st.status) && !!out && out.parseStatus !== 'pending';
      };
      for (let i = 0; i < 300 && !settled(d); i++) {
        await new Promise((r) => setTimeout(r, 50));
        d = await detail();
      }
      const endedAfter = (performance.now() - stepStart) / 1000;
      expect(settled(d)).toBe(true);
      expect(cutAt).toBeGreaterThan(0);
      const st = d.steps.find((s) => s.id === stepId)!;
      expect(['timed-out', 'connection-lost']).toContain(st.status);
      // Ended by Casefile's own deadline (no RST ever came): within the remote timeout + local grace, plus the parse.
      expect(Number(BigInt(st.endedNs!) - BigInt(st.startedNs!)) / 1e9).toBeLessThanOrEqual(TIMEOUT_MS / 1000 + LOCAL_GRACE_SEC + 0.5);
      expect(endedAfter).toBeLessThan(TIMEOUT_MS / 1000 + LOCAL_GRACE_SEC + 5);

      // The partial capture is kept: every byte received before the cut (and nothing after the link went down
      // can have arrived), stored as a pcap artifact of this step.
      const art = d.artifacts.find((a) => a.stepId === stepId && a.stream === 'stdout')!;
      expect(art.kind).toBe('pcap');
      const bytes = backend.store.readArtifact(art.id);
      expect(bytes.length).toBe(art.size);
      expect(bytes.length).toBeGreaterThanOrEqual(atCut);
      expect(bytes.equals(Buffer.concat(received))).toBe(true);
      // A readable capture: header, whole records, at most the last one cut short by the link going down.
      const w = walkPcap(bytes);
      expect(w.records).toBeGreaterThanOrEqual(5);
      expect(w.cutTail).toBeLessThan(16 + 262144);
      // Parsed, not failed; a cut last record makes it partial, with the reason.
      if (w.cutTail > 0) {
        expect(art.parseStatus).toBe('partial');
        expect(art.parseWarnings.join(' ')).toMatch(/truncat/i);
      } else {
        expect(['parsed', 'partial']).toContain(art.parseStatus);
      }
      console.log(`linkcut capture: step ${st.status} (${st.error ?? ''}), ${bytes.length} bytes stored, ${atCut} before the cut, ${w.records} records, cut tail ${w.cutTail}, parse ${art.parseStatus}`);

      run('ip', ['link', 'set', cutLink!, 'up']);
      cutLink = undefined;
    } finally {
      await backend.dispose();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
