import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRow, FindingRow } from '../../electron/store/store';
import { startNetnsLab, type NetnsLab } from '../lab/netns';
import { nfslock, startNfsFiler, type NfsFiler } from '../lab/nfs';
import { killPid } from '../lab/proc';
import { describeSteps, durationSec, startPlaybook, type PlaybookRun } from './harness';

/**
 * Issue 5 (CI): `nlm-lock-recovery` through the real runner against the project's own NFS lab: a ganesha
 * filer with rpcbind + rpc.statd on lab host c (its own per-run namespaces), clients a and b making real NLM
 * LOCK calls with the nfslock client (libnfs), and the playbook's bounded tcpdump streamed back over SSH.
 */
const GRACE = 10;

let lab: NetnsLab;
let filer: NfsFiler;

beforeAll(async () => {
  lab = await startNetnsLab();
  filer = await startNfsFiler(lab, { host: 'c', grace: GRACE, lease: 5 });
}, 60_000);

afterAll(async () => {
  await filer?.stop();
  await lab?.teardown();
});

interface RpcData {
  program?: string;
  procedure?: string;
  status?: string;
  client?: string;
  server?: string;
  detail?: { reclaim?: boolean };
}

/** Decoded NLM replies from the capture artifacts of one host of the run. */
function nlmCalls(run: PlaybookRun, hostAlias: string): (EventRow & { d: RpcData })[] {
  const hostId = run.hostIds.get(hostAlias);
  const arts = run.backend.store.listArtifacts(run.caseId).filter((a) => a.hostId === hostId && a.kind === 'pcap' && a.stream === 'stdout');
  const out: (EventRow & { d: RpcData })[] = [];
  for (const a of arts) {
    for (const e of run.backend.store.listEvents(run.caseId, { artifactId: a.id, limit: 100_000 })) {
      const d = e.data as RpcData;
      if (e.kind === 'rpc' && d.program === 'nlm') out.push({ ...e, d });
    }
  }
  return out;
}

function findingText(fs: readonly FindingRow[]): string {
  return fs.map((f) => `${f.rule} [${f.severity}] ${f.title}\n  ${f.evidence.map((e) => (e as { summary?: string }).summary).join('\n  ')}`).join('\n');
}

/** Start the run, wait until its capture step is running on every host and tcpdump has had time to start. */
async function startWithCapture(hosts: readonly string[], captureFor: number): Promise<PlaybookRun> {
  const run = await startPlaybook({ home: lab.home, playbookId: 'nlm-lock-recovery', hosts, servers: ['lab-c'], params: { capture_for: `${captureFor}s` } });
  const end = Date.now() + 30_000;
  while (run.steps().filter((s) => s.stepKey === 'capture' && s.status === 'running').length < hosts.length) {
    if (Date.now() > end) throw new Error(`capture never started on every host:\n${describeSteps(run.steps())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1500)); // tcpdump opens its socket after the channel starts
  return run;
}

describe('nlm-lock-recovery against the lab filer', () => {
  it('with statd stopped on the filer, reaches nlm.statd-unavailable (rpcinfo, NLM4_DENIED_NOLOCKS)', async () => {
    await filer.statdStop();
    const t0 = Date.now();
    const run = await startWithCapture(['lab-a', 'lab-c'], 6);
    try {
      const lock = await nfslock(lab, 'a', ['v3', filer.ip, '/export', '/statd-file', '1', '0', '0', 'lab-a'], 20_000).result;
      expect(lock.out).toMatch(/NLM4_LOCK reply status=NLM4_DENIED_NOLOCKS/);
      await run.done;
      const took = (Date.now() - t0) / 1000;
      const steps = run.steps();
      const findings = run.findings();
      console.log(`statd run ${took.toFixed(1)} s\n${describeSteps(steps)}\n${findingText(findings)}`);

      // The filer's own rpcinfo (over SSH, in the filer's namespace): nlockmgr registered, status missing.
      const cId = run.hostIds.get('lab-c');
      const rpcinfo = steps.find((s) => s.stepKey === 'rpcinfo-local' && s.hostId === cId)!;
      const rpcinfoOut = run.backend.store.readArtifact(run.backend.store.listArtifacts(run.caseId).find((a) => a.stepId === rpcinfo.id && a.stream === 'stdout')!.id).toString();
      expect(rpcinfoOut).toMatch(/100021\s+4\s+tcp\s+32803\s+nlockmgr/);
      expect(rpcinfoOut).not.toMatch(/100024/);

      // The capture on the filer, streamed over SSH, decoded: LOCK answered NLM4_DENIED_NOLOCKS.
      const denied = nlmCalls(run, 'lab-c').filter((c) => c.d.procedure === 'LOCK' && c.d.status === 'NLM4_DENIED_NOLOCKS');
      expect(denied.length).toBeGreaterThanOrEqual(1);
      expect(denied[0]!.d.server).toContain(filer.ip);
      const cap = steps.find((s) => s.stepKey === 'capture' && s.hostId === cId)!;
      expect(Math.abs(durationSec(cap) - 6)).toBeLessThan(2);

      // Both signatures are reported (today as two findings: the NLM reply names the filer's address, the
      // filer's local `rpcinfo -p` has no target address).
      const statd = findings.filter((f) => f.rule === 'nlm.statd-unavailable');
      // Roles: the server-side lock table was read on the filer only.
      const serverLocks = run.steps().filter((x) => x.stepKey === 'server-locks');
      expect(serverLocks.map((x) => x.hostId)).toEqual([run.hostIds.get('lab-c')]);
      expect(statd.length, findingText(findings)).toBeGreaterThanOrEqual(1);
      const ev = statd.flatMap((f) => f.evidence.map((e) => (e as { summary: string }).summary)).join('\n');
      expect(ev).toMatch(new RegExp(`LOCK ${lab.hosts.a.ip.replaceAll('.', '\\.')}:\\d+ -> ${filer.ip.replaceAll('.', '\\.')}:32803 = NLM4_DENIED_NOLOCKS`));
      expect(ev).toMatch(/nlockmgr \(100021\) registered, status \(100024\) missing/);
      for (const f of statd) expect(f.severity).toBe('critical');
      // ganesha's own log says why: it could not reach statd.
      expect(filer.ganeshaLog()).toMatch(/connect to statd failed/);
      expect(took).toBeLessThan(60);
    } finally {
      await run.close();
      await filer.statdStart();
    }
  }, 90_000);

  it('after a filer restart with a lock held, shows the grace period and the reclaim (nlm.grace-period)', async () => {
    // lab-a holds a lock before the "crash".
    const holder = nfslock(lab, 'a', ['v3', filer.ip, '/export', '/grace-file', '60', '0', '0', 'lab-a'], 80_000);
    const t0 = Date.now();
    let run: PlaybookRun | undefined;
    try {
      run = await startWithCapture(['lab-a', 'lab-c'], GRACE + 14);
      await filer.ganeshaStop('SIGKILL');
      const restartedAt = Date.now();
      await filer.ganeshaStart({ graceless: false });
      // lab-b wants the lock during grace: denied, retried every 5 s like the Linux client; lab-a reclaims.
      const b = nfslock(lab, 'b', ['v3', filer.ip, '/export', '/grace-file', '1', '0', '0', 'lab-b', '5'], 60_000);
      await new Promise((r) => setTimeout(r, 700));
      const reclaim = await nfslock(lab, 'a', ['v3', filer.ip, '/export', '/grace-file', '2', '0', '1', 'lab-a'], 20_000).result;
      expect(reclaim.out).toMatch(/reclaim=1[\s\S]*NLM4_LOCK reply status=NLM4_GRANTED/);
      const bres = await b.result;
      expect(bres.out).toMatch(/NLM4_DENIED_GRACE_PERIOD[\s\S]*NLM4_LOCK reply status=NLM4_GRANTED/);
      await run.done;
      const took = (Date.now() - t0) / 1000;
      const findings = run.findings();
      console.log(`grace run ${took.toFixed(1)} s (restart at +${((restartedAt - t0) / 1000).toFixed(1)} s)\n${describeSteps(run.steps())}\n${findingText(findings)}`);

      const calls = nlmCalls(run, 'lab-c').filter((c) => c.d.procedure === 'LOCK');
      const denied = calls.filter((c) => c.d.status === 'NLM4_DENIED_GRACE_PERIOD' && c.d.client?.startsWith(lab.hosts.b.ip));
      expect(denied.length).toBeGreaterThanOrEqual(2);
      const gaps = denied.slice(1).map((c, i) => Number(c.tsNs! - denied[i]!.tsNs!) / 1e9);
      console.log(`DENIED_GRACE_PERIOD gaps: ${gaps.map((g) => g.toFixed(2)).join(', ')} s`);
      for (const g of gaps) expect(Math.abs(g - 5)).toBeLessThan(0.5);
      const reclaims = calls.filter((c) => c.d.detail?.reclaim === true && c.d.status === 'NLM4_GRANTED');
      expect(reclaims.length).toBeGreaterThanOrEqual(1);
      expect(reclaims[0]!.d.client).toContain(lab.hosts.a.ip);
      const grantedB = calls.find((c) => c.d.status === 'NLM4_GRANTED' && c.d.client?.startsWith(lab.hosts.b.ip) && c.tsNs! > denied[denied.length - 1]!.tsNs!);
      expect(grantedB).toBeDefined();
      // The window closes when ganesha lifts grace: about GRACE seconds after the first denial.
      const window = Number(grantedB!.tsNs! - denied[0]!.tsNs!) / 1e9;
      expect(window).toBeGreaterThan(GRACE - 3);
      expect(window).toBeLessThan(GRACE + 6);

      const grace = findings.find((f) => f.rule === 'nlm.grace-period');
      expect(grace, findingText(findings)).toBeDefined();
      const ev = grace!.evidence.map((e) => (e as { summary: string }).summary).join('\n');
      expect(ev).toMatch(/DENIED_GRACE_PERIOD/);
      expect(ev).toMatch(/reclaim: .*NLM4_GRANTED/);
      expect(grace!.explanation).toMatch(/reclaims? (was|were) granted/);
      expect(grace!.explanation).toMatch(/retrying about every 5(\.\d+)? ?s/);
      expect(filer.ganeshaLog()).toMatch(/NFS Server Now IN GRACE, duration 10/);
      expect(took).toBeLessThan(75);
    } finally {
      killPid(holder.pid, 'SIGKILL');
      await holder.result;
      await run?.close();
    }
  }, 90_000);
});
