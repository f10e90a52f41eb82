/**
 * What a user sees after Casefile was killed mid-run, in Debian Chromium through the browser mode: a playbook run
 * (the app's backend in a child, against a real sshd) is SIGKILLed while an intrusive step runs; `casefile serve`
 * then starts on the same data directory, as the app would next time. The run view shows the run ended
 * `interrupted` (no spinner, no Cancel button), says why, lists the plan from the playbook the run stored, shows
 * the step cut short with the recovery's reason and
 * the command that undoes it, keeps the line the step had streamed as evidence, and its findings name the host
 * left changed with that command.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openDb } from '../../electron/store/db';
import { waitFor } from '../lab/proc';
import { startSshd, type SshdLab } from '../lab/sshd';
import { prepareKillProbe, startRunChild, type RunChild } from '../fault/killed-run-lab';
import { ensureRendererBuilt, launchChromium, openApp, pwned, startCasefile, type CasefileServer } from './harness';

let lab: SshdLab;
let dir: string;
let server: CasefileServer | undefined;
let browser: Browser;
let child: RunChild | undefined;

beforeAll(async () => {
  await ensureRendererBuilt();
  [lab, browser] = await Promise.all([startSshd({ alias: 'web-k' }), launchChromium()]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-e2e-killed-'));
}, 300_000);

afterAll(async () => {
  await child?.kill();
  await browser?.close();
  await server?.stop();
  await lab?.stop();
  await lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a run cut short by a crash, in the browser', () => {
  it('shows the run interrupted, the step cut short with its output, and the restore to run by hand', async () => {
    const data = path.join(dir, 'data');
    const probe = prepareKillProbe(dir);
    const dbFile = path.join(data, 'casefile.db');
    mkdirSync(data, { recursive: true });
    openDb(dbFile).close(); // created and migrated before two processes share it
    child = await startRunChild({ dbFile, home: lab.home, playbookDir: probe.playbookDir, alias: 'web-k' });
    // The line the step streamed reaches the store within a second; then the kill.
    const db = openDb(dbFile);
    try {
      await waitFor('the streamed line to be stored', () => db.prepare("SELECT count(*) FROM artifact_chunks c JOIN artifacts a ON a.id = c.artifact_id WHERE a.name = 'change.stdout'").pluck().get() === 1, 3000);
    } finally {
      db.close();
    }
    await child.kill();

    server = await startCasefile({ dataDir: data, home: lab.home });
    const cases = (await server.api('cases.list', {})) as { id: number; name: string }[];
    const caseId = cases.find((c) => c.name === 'killed-run')!.id;
    const { page, errors, offHostRequests, context } = await openApp(browser, server, `#/case/${caseId}`);
    try {
      await page.getByTestId('tab-walkthrough').click();
      const view = page.getByTestId('run-view');
      await expect.poll(() => view.getAttribute('data-run-status'), { timeout: 15_000 }).toBe('interrupted');
      await expect.poll(() => view.getAttribute('data-done')).toBe('true');
      expect(await page.getByTestId('cancel-run').count()).toBe(0);
      expect(await page.getByTestId('run-interrupted').textContent()).toMatch(/Casefile stopped while this run was in progress/);
      // The plan comes from the playbook the run stored (this server's playbook folder does not have it), with
      // each step's status per host; the step never reached has none.
      expect(await page.getByTestId('step-status-first').textContent()).toBe('web-k: ok');
      expect(await page.getByTestId('step-status-change').textContent()).toBe('web-k: interrupted');
      expect(await page.getByTestId('step-status-after').count()).toBe(0);
      expect(await page.locator('body').textContent()).toContain('Turns something on that only the restore turns off.');
      // Steps as run: the finished one as it was, the one cut short marked so.
      const ok = page.locator('.step[data-status="ok"]');
      expect(await ok.count()).toBe(1);
      expect(await ok.locator('strong').textContent()).toBe('Before on web-k');

      const step = page.locator('.step[data-status="interrupted"]');
      expect(await step.count()).toBe(1);
      await step.locator('.clickable').click(); // folded: it is not running any more
      expect(await step.locator('.error').textContent()).toMatch(/^Casefile stopped while this step ran .*output received until then is kept/);
      const restore = `rm -f ${probe.mark}/changed; touch ${probe.mark}/restored`;
      expect(await step.locator('[data-testid^="step-restore-"] code').textContent()).toBe(restore);
      // The streamed line is evidence: its artifact opens in the viewer.
      await step.getByRole('button', { name: /change\.stdout/ }).click();
      await expect.poll(() => page.getByTestId('viewer-line').textContent(), { timeout: 15_000 }).toBe('1: started');

      // The findings, as the case shows them.
      await page.getByTestId('tab-findings').click();
      const text = (await page.locator('body').textContent()) ?? '';
      expect(text).toContain('Restore never ran on web-k: the host is still changed by change');
      expect(text).toContain(restore);
      expect(text).toContain('Step change on web-k cut short: Casefile stopped while it ran');

      expect(errors).toEqual([]);
      expect(offHostRequests).toEqual([]);
      expect(await pwned(page)).toBe(false);
    } finally {
      await context.close();
    }
  }, 120_000);
});
