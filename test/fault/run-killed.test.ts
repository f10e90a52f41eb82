/**
 * Fault: Casefile itself is killed (SIGKILL, as a crash, the OOM killer or a power cut would end it) in the middle
 * of a playbook run, while an intrusive step that changed the host is running. Real pieces: the app's backend in a
 * child process running the playbook against a real OpenSSH server on loopback, a real SIGKILL, the same SQLite
 * file reopened as the app does at its next start.
 *
 * Before the kill, a recovery from another process (the desktop app starting while a `casefile run` works in a
 * terminal) must leave the live run alone. After it: the run ends `interrupted` (the run view stops polling it),
 * the step cut short is `interrupted` with the output received until then kept and parsed, the finished step is
 * untouched, and the findings name the host left changed with the exact restore command, which Casefile did not
 * run by itself. On the host the command ends at its own remote deadline (`timeout -s KILL`), with nobody left to
 * end it. A second recovery finds nothing more to do.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend } from '../../electron/api/backend';
import { openDb } from '../../electron/store/db';
import { startSshd, type SshdLab } from '../lab/sshd';
import { waitFor } from '../lab/proc';
import { prepareKillProbe, remoteSleeps, SLEEP, startRunChild, STEP_TIMEOUT_S, type RunChild } from './killed-run-lab';

let lab: SshdLab;
let dir: string;
let probe: { playbookDir: string; mark: string };
let child: RunChild | undefined;

beforeAll(async () => {
  lab = await startSshd({ alias: 'web-k' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-killed-run-'));
  probe = prepareKillProbe(dir);
}, 60_000);

afterAll(async () => {
  await child?.kill();
  await lab?.stop();
  await lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Casefile killed in the middle of a run', () => {
  it('leaves a live run alone; after the kill the run and step end interrupted, and the unrun restore is named', async () => {
    const dbFile = path.join(dir, 'casefile.db');
    openDb(dbFile).close(); // created and migrated before two processes share it
    child = await startRunChild({ dbFile, home: lab.home, playbookDir: probe.playbookDir, alias: 'web-k' });
    const runId = child.runId;

    const db = openDb(dbFile);
    const backend = new Backend({ db, dbFile });
    try {
      // 1. Another process starting up while the run is live: nothing of it is touched.
      const live = await backend.recoverInterrupted();
      expect(live.interruptedRuns).toEqual([]);
      expect(live.interruptedSteps).toEqual([]);
      const caseId = backend.store.findCase('killed-run')!.id;
      const stepOf = (key: string) => backend.store.listSteps(caseId, runId).find((s) => s.stepKey === key);
      expect(backend.store.getRun(runId)!.status).toBe('running');
      expect(stepOf('change')!.status).toBe('running');
      // The restore command was recorded when the step started.
      expect(stepOf('change')!.restore).toBe(`rm -f ${probe.mark}/changed; touch ${probe.mark}/restored`);

      // Output streaming from the host reaches the store within a second (the writer's timed flush), even though
      // it is far from filling a chunk: that is what survives the kill.
      const changeOut = (): Buffer => {
        const a = backend.store.listArtifacts(caseId).find((x) => x.stepId === stepOf('change')!.id && x.stream === 'stdout');
        return a ? backend.store.readArtifact(a.id) : Buffer.alloc(0);
      };
      await waitFor('the streamed line to be stored', () => changeOut().toString() === 'started\n', 3000);

      // The app shows it as running in another process: followed here, no Cancel offered.
      const liveState = (await backend.call('runs.state', { runId })) as { done: boolean; elsewhere?: boolean };
      expect(liveState).toMatchObject({ done: false, elsewhere: true });

      // 2. The kill, mid-step.
      const killedAt = Date.now();
      await child.kill();
      expect(child.output()).not.toContain('DONE');
      expect(existsSync(path.join(probe.mark, 'changed'))).toBe(true);

      // 3. The next start.
      const rec = await backend.recoverInterrupted();
      expect(rec.interruptedRuns).toEqual([runId]);
      expect(rec.interruptedSteps).toEqual([stepOf('change')!.id]);
      const run = backend.store.getRun(runId)!;
      expect(run.status).toBe('interrupted');
      expect(run.endedNs).toBeDefined();
      const state = (await backend.call('runs.state', { runId })) as { done: boolean; run: { status: string }; steps: { stepKey: string; status: string; restore?: string }[] };
      expect(state.done).toBe(true); // the run view stops polling and drops its Cancel button
      expect(state.run.status).toBe('interrupted');
      expect(stepOf('first')!.status).toBe('ok');
      const change = stepOf('change')!;
      expect(change.status).toBe('interrupted');
      expect(change.error).toMatch(/^Casefile stopped while this step ran .*the output received until then is kept\. .*timeout -s KILL/);
      expect(stepOf('after')).toBeUndefined();
      // The output streamed before the kill is evidence: stored, parsed, nothing left pending.
      const arts = backend.store.listArtifacts(caseId).filter((a) => a.stepId === change.id);
      const stdout = arts.find((a) => a.stream === 'stdout')!;
      expect(backend.store.readArtifact(stdout.id).toString()).toBe('started\n');
      expect(arts.every((a) => a.parseStatus !== 'pending')).toBe(true);

      // The findings: the host left changed, with the exact command; and the step cut short.
      const findings = backend.store.listFindings(caseId).filter((f) => f.rule === 'collector.interrupted');
      const restore = findings.find((f) => f.severity === 'high');
      expect(restore?.title).toBe('Restore never ran on web-k: the host is still changed by change');
      expect(restore?.next).toBe(`Run on web-k: \`${change.restore}\`.`);
      expect(findings.find((f) => f.severity === 'medium')?.title).toBe('Step change on web-k cut short: Casefile stopped while it ran');
      // Casefile did not run the restore by itself.
      expect(existsSync(path.join(probe.mark, 'restored'))).toBe(false);

      // 4. On the host, nothing was left to end the command but its own deadline.
      await waitFor(`sleep ${SLEEP} to end at its remote deadline`, () => remoteSleeps().length === 0, (STEP_TIMEOUT_S + 5) * 1000);
      expect((Date.now() - killedAt) / 1000).toBeLessThan(STEP_TIMEOUT_S + 5);

      // 5. Nothing more to do at the start after that.
      expect(await backend.recoverInterrupted()).toEqual({ reingested: [], failed: [], interruptedRuns: [], interruptedSteps: [] });
    } finally {
      await backend.dispose();
      db.close();
    }
  }, 90_000);

  it('a run killed while the app is open ends interrupted as soon as the app looks at it, its output parsed', async () => {
    const dbFile = path.join(dir, 'open.db');
    const db = openDb(dbFile);
    const backend = new Backend({ db, dbFile });
    try {
      // The app is up (its startup recovery found nothing) when a CLI run starts on the same data directory.
      expect((await backend.recoverInterrupted()).interruptedRuns).toEqual([]);
      child = await startRunChild({ dbFile, home: lab.home, playbookDir: probe.playbookDir, alias: 'web-k' });
      const runId = child.runId;
      expect(await backend.call('runs.state', { runId })).toMatchObject({ done: false, elsewhere: true });
      const caseId = backend.store.findCase('killed-run')!.id;
      const stdoutOf = () => backend.store.listArtifacts(caseId).find((a) => a.name === 'change.stdout');
      await waitFor('the streamed line to be stored', () => stdoutOf() !== undefined && backend.store.readArtifact(stdoutOf()!.id).toString() === 'started\n', 3000);
      await child.kill();

      const state = (await backend.call('runs.state', { runId })) as { done: boolean; elsewhere?: boolean; run: { status: string }; steps: { stepKey: string; status: string }[] };
      expect(state).toMatchObject({ done: true, elsewhere: false, run: { status: 'interrupted' } });
      expect(state.steps.map((x) => [x.stepKey, x.status])).toEqual([['first', 'ok'], ['change', 'interrupted']]);
      // Its pending output is parsed in the background (the same recovery as at startup).
      await waitFor('change.stdout to be parsed', () => stdoutOf()!.parseStatus !== 'pending', 10_000);
      expect(backend.store.listFindings(caseId).filter((f) => f.rule === 'collector.interrupted').map((f) => f.severity).sort()).toEqual(['high', 'medium']);
    } finally {
      await child?.kill();
      await backend.dispose();
      db.close();
    }
  }, 90_000);
});
