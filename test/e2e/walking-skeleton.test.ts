/**
 * Issue 2, end to end in Debian Chromium through the browser mode: create a case, add the local sshd host
 * (from the lab's ~/.ssh/config), run host-snapshot on it with live output, see a dmesg event on the timeline
 * and in the events table, annotate it, export Markdown and check the report's content.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startSshd, type SshdLab } from '../lab/sshd';
import { ensureRendererBuilt, launchChromium, openApp, pwned, startCasefile, type CasefileServer } from './harness';

let lab: SshdLab;
let server: CasefileServer;
let browser: Browser;

beforeAll(async () => {
  await ensureRendererBuilt();
  lab = await startSshd({ alias: 'labhost' });
  server = await startCasefile({ home: lab.home });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await lab?.cleanup();
});

describe('walking skeleton in the browser', () => {
  it('creates a case, runs host-snapshot over SSH, annotates a dmesg event and exports Markdown', async () => {
    const { page, errors, offHostRequests, context } = await openApp(browser, server);
    try {
      // The token is taken out of the address bar and kept for this tab only.
      expect(page.url()).not.toContain('token=');

      await page.getByTestId('new-case-name').fill('skeleton');
      await page.getByTestId('new-case-title').fill('walking skeleton e2e');
      await page.getByTestId('create-case').click();
      await expect.poll(() => page.getByTestId('case-title').textContent()).toBe('skeleton');

      // Hosts: import the alias from ~/.ssh/config, then test the connection (host key checked, clock measured).
      await page.getByTestId('tab-hosts').click();
      await page.getByTestId('import-ssh-config').click();
      await page.getByTestId('add-config-labhost').click();
      const card = page.getByTestId('host-labhost');
      await card.waitFor();
      await card.getByTestId('test-host').click();
      await expect.poll(() => card.getByTestId('host-fingerprint').textContent(), { timeout: 30_000 }).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
      const fp = execFileSync('ssh-keygen', ['-lf', `${lab.hostKeyPath}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
      expect(await card.getByTestId('host-fingerprint').textContent()).toContain(fp);
      expect(await card.getByTestId('host-offset').textContent()).toMatch(/±/);

      // Walkthrough: host-snapshot, its plan shown with the exact commands before it runs.
      await page.getByTestId('tab-walkthrough').click();
      await page.getByTestId('playbook-select').selectOption('host-snapshot');
      await page.getByTestId('plan').waitFor();
      const planned = await page.getByTestId('planned-command').allTextContents();
      expect(planned.some((c) => c.includes('dmesg'))).toBe(true);
      const hostBox = page.getByTestId('run-host-labhost');
      if (!(await hostBox.isChecked())) await hostBox.check();
      await page.getByTestId('start-run-button').click();
      const run = page.getByTestId('run-view');
      await run.waitFor();
      await expect.poll(() => run.getAttribute('data-done'), { timeout: 90_000 }).toBe('true');
      // Live output arrived for at least one step while it ran.
      await expect.poll(() => page.getByTestId('live-output').count()).toBeGreaterThan(0);
      const statuses = await page.locator('[data-testid^="step-status-"]').allTextContents();
      expect(statuses.length).toBeGreaterThan(3);
      expect(statuses.some((s) => s.endsWith(': ok'))).toBe(true);

      // Timeline: a dmesg lane for the host is drawn.
      await page.getByTestId('tab-timeline').click();
      const canvas = page.getByTestId('timeline');
      await expect.poll(() => canvas.getAttribute('data-loaded'), { timeout: 20_000 }).toBe('yes');
      const lanes = JSON.parse((await canvas.getAttribute('data-lanes')) ?? '[]') as { lane: string }[];
      expect(lanes.some((l) => /dmesg|kernel/.test(l.lane))).toBe(true);

      // Events: a kernel (dmesg) event, annotated.
      await page.getByTestId('tab-events').click();
      await page.getByTestId('events-kind').selectOption('kernel');
      const row = page.locator('tr[data-kind="kernel"]').first();
      await row.waitFor({ timeout: 20_000 });
      const eventText = (await row.locator('td').nth(6).textContent()) ?? '';
      expect(eventText.length).toBeGreaterThan(0);
      await row.getByRole('button', { name: 'Annotate' }).click();
      const note = 'Kernel boot line kept as **evidence** for the e2e test';
      await page.getByTestId('annotation-body').fill(note);
      await page.getByTestId('marker-key-moment').check();
      await page.getByTestId('annotation-save').click();
      await page.getByTestId('annotation-editor').waitFor({ state: 'detached' });
      await page.getByTestId('tab-annotations').click();
      await expect.poll(() => page.locator('[data-testid^="annotation-"]').filter({ hasText: 'Kernel boot line kept as' }).count()).toBe(1);

      // Export Markdown: the host's kernel release, the annotation, the commands as run.
      await page.getByTestId('tab-export').click();
      await page.getByTestId('export-md').click();
      const md = page.getByTestId('report-md');
      await md.waitFor({ timeout: 30_000 });
      const report = (await md.textContent()) ?? '';
      const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
      expect(report).toContain(release);
      expect(report).toContain('Kernel boot line kept as');
      expect(report).toContain('cat /proc/locks');
      expect(report).toMatch(/dmesg/);
      expect(report).toMatch(/[0-9a-f]{64}/); // artifact hashes
      const download = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
      expect(download[0].suggestedFilename()).toMatch(/\.md$/);

      expect(await pwned(page)).toBe(false);
      expect(offHostRequests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);
});

describe('unknown host key in the browser', () => {
  it('shows the SHA256 fingerprint, sends nothing until accepted, then records the key', async () => {
    const fresh = await startSshd({ alias: 'newhost', knownHosts: false });
    const srv = await startCasefile({ home: fresh.home });
    const { page, errors, context } = await openApp(browser, srv);
    try {
      await page.getByTestId('new-case-name').fill('hostkey');
      await page.getByTestId('create-case').click();
      await page.getByTestId('case-title').waitFor();
      await page.getByTestId('tab-hosts').click();
      await page.getByTestId('host-destination').fill('newhost');
      await page.getByTestId('add-host').click();
      const card = page.getByTestId('host-newhost');
      await card.waitFor();

      // First attempt: refuse. The connection fails and nothing is recorded.
      await card.getByTestId('test-host').click();
      const prompt = page.getByTestId('hostkey-prompt');
      await prompt.waitFor({ timeout: 30_000 });
      const fp = execFileSync('ssh-keygen', ['-lf', `${fresh.hostKeyPath}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
      expect(await page.getByTestId('hostkey-fingerprint').textContent()).toBe(fp);
      expect(fresh.log()).not.toMatch(/userauth-request|Accepted publickey/);
      await prompt.getByRole('button', { name: 'Refuse' }).click();
      await expect.poll(() => card.locator('.error').count(), { timeout: 30_000 }).toBeGreaterThan(0);
      expect(await card.locator('.error').textContent()).toMatch(/key|refused|trust/i);
      expect(fresh.log()).not.toMatch(/Accepted publickey/);

      // Second attempt: accept. The host connects and its fingerprint is shown.
      await card.getByTestId('test-host').click();
      await prompt.waitFor({ timeout: 30_000 });
      await prompt.getByRole('button', { name: /Trust/ }).click();
      await expect.poll(() => card.getByTestId('host-fingerprint').textContent(), { timeout: 30_000 }).toContain(fp);
      // Recorded (hashed or not) with the server's exact public key.
      const pub = readFileSync(`${fresh.hostKeyPath}.pub`, 'utf8').split(' ')[1]!;
      expect(readFileSync(fresh.knownHostsPath, 'utf8')).toContain(pub);
      // The refused attempt is an HTTP error on hosts.test, which Chromium logs; nothing else may fail.
      expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of [45]\d\d/.test(e))).toEqual([]);
    } finally {
      await context.close();
      await srv.stop();
      await fresh.cleanup();
    }
  }, 120_000);
});

describe('intrusive steps in the walkthrough', () => {
  it('shows the exact command, lets the user edit it, and runs the edited command only after confirmation', async () => {
    // A process to point stuck-process at: a plain sleep on the lab host (the lab sshd runs on this machine).
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    const { page, errors, context } = await openApp(browser, server);
    try {
      await page.getByTestId('new-case-name').fill('intrusive');
      await page.getByTestId('create-case').click();
      await page.getByTestId('case-title').waitFor();
      await page.getByTestId('tab-hosts').click();
      await page.getByTestId('host-destination').fill('labhost');
      await page.getByTestId('add-host').click();
      await page.getByTestId('host-labhost').waitFor();

      await page.getByTestId('tab-walkthrough').click();
      await page.getByTestId('playbook-select').selectOption('stuck-process');
      await page.getByTestId('param-pid').fill(String(sleeper.pid));
      await expect.poll(() => page.getByTestId('plan-step-strace').textContent()).toContain(`-p '${sleeper.pid}'`);
      const hostBox = page.getByTestId('run-host-labhost');
      if (!(await hostBox.isChecked())) await hostBox.check();
      await page.getByTestId('start-run-button').click();

      const confirm = page.getByTestId('confirm-strace');
      await confirm.waitFor({ timeout: 60_000 });
      // The reasoning is rendered Markdown (inline code as <code>), the command is the exact one.
      expect(await confirm.locator('code').count()).toBeGreaterThan(0);
      const box = confirm.getByTestId('confirm-command');
      const shown = await box.inputValue();
      expect(shown).toContain(`strace -f -tt -s 256 -p '${sleeper.pid}'`);
      // Nothing ran for this step yet.
      expect(await page.locator('[data-testid^="step-status-strace"]').count()).toBe(0);
      const edited = shown.replace('--foreground 20 ', '--foreground 2 ');
      expect(edited).not.toBe(shown);
      await box.fill(edited);
      await confirm.getByTestId('confirm-run').click();

      // Skip the later intrusive experiments so the run ends.
      const run = page.getByTestId('run-view');
      for (let i = 0; i < 120 && (await run.getAttribute('data-done')) !== 'true'; i++) {
        const waiting = page.locator('section[data-testid^="confirm-"]');
        if ((await waiting.count()) > 0) await waiting.first().getByRole('button', { name: 'Skip this step' }).click();
        await page.waitForTimeout(500);
      }
      await expect.poll(() => run.getAttribute('data-done'), { timeout: 60_000 }).toBe('true');
      // The strace step ran the edited command (2 s instead of 20 s) on the host.
      const straceStep = page.locator('div.step').filter({ hasText: 'strace' }).filter({ hasText: `-p '${sleeper.pid}'` }).first();
      if ((await straceStep.locator('pre.command').count()) === 0) await straceStep.locator('.row').first().click();
      await expect.poll(() => straceStep.locator('pre.command').textContent()).toContain('--foreground 2 strace');
      expect(errors).toEqual([]);
    } finally {
      if (process.env.E2E_SHOTS) await page.screenshot({ path: path.join(process.env.E2E_SHOTS, 'intrusive.png'), fullPage: true });
      sleeper.kill();
      await context.close();
    }
  }, 180_000);
});
