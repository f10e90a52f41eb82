import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFuseStuck, type FuseStuck } from '../lab/fuse';
import { startSshd, type SshdLab } from '../lab/sshd';
import { describeSteps, durationSec, startPlaybook, type PlaybookRun } from './harness';

/**
 * Issue 5 (CI, first bullet): `stuck-process` on a process genuinely stuck in the kernel (flock on a FUSE
 * filesystem whose FLOCK handler never answers), run over a real loopback sshd through the real runner.
 */
const STRACE_FOR = 6;

let sshd: SshdLab;
let fuse: FuseStuck;
let run: PlaybookRun;
let elapsedMs = 0;

beforeAll(async () => {
  fuse = await startFuseStuck();
  sshd = await startSshd({ extraConfig: process.env.CF_SHIM ? 'SetEnv PATH=/tmp/cf-shim:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' : '' });
  const t0 = Date.now();
  run = await startPlaybook({ home: sshd.home, playbookId: 'stuck-process', hosts: [sshd.alias], params: { pid: String(fuse.stuckPid), strace_for: `${STRACE_FOR}s`, capture_for: '2s' } });
  await run.done;
  elapsedMs = Date.now() - t0;
}, 90_000);

afterAll(async () => {
  await run?.close();
  await fuse?.release();
  await sshd?.cleanup();
});

describe('stuck-process on a process stuck in flock on FUSE', () => {
  it('runs every step over SSH', () => {
    const steps = run.steps();
    console.log(`stuck-process run took ${(elapsedMs / 1000).toFixed(1)} s\n${describeSteps(steps)}`);
    console.log(run.findings().map((f) => `${f.rule} ${f.severity} ${f.title}`).join('\n'));
    for (const a of run.backend.store.listArtifacts(run.caseId)) if (a.stream === 'stderr' && a.size > 0) console.log(a.name, run.backend.store.readArtifact(a.id, 400).toString());
    expect(steps.length).toBeGreaterThan(5);
  });
});
