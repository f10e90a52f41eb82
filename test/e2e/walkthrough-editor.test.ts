/**
 * Issue 5's walkthrough UI in Debian Chromium through the browser mode: host roles decide where each planned
 * step runs (and reach runs.start), and the playbook editor checks the YAML against the schema as you type:
 * an error becomes a Monaco marker at its line, fixing it clears it, and the valid copy can be downloaded.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureRendererBuilt, launchChromium, openApp, pwned, startCasefile, type CasefileServer } from './harness';

let server: CasefileServer;
let browser: Browser;
let tmp: string;

beforeAll(async () => {
  await ensureRendererBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'casefile-e2e-pb-'));
  server = await startCasefile();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Put the cursor at the end of a 1-based line (through the editor the page exposes); typing is then real keystrokes. */
async function gotoLineEnd(page: Page, line: number): Promise<void> {
  await page.evaluate((l) => {
    const ed = window.__casefilePlaybookEditor!;
    const model = ed.getModel()!;
    ed.focus();
    ed.setPosition({ lineNumber: l, column: model.getLineMaxColumn(l) });
  }, line);
  await expect.poll(() => page.evaluate(() => window.__casefilePlaybookEditor!.getPosition()!.lineNumber)).toBe(line);
}

/** Ask for suggestions until the widget shows (the first request can race the editor's own key handling). */
async function suggestions(page: Page): Promise<string> {
  const widget = page.locator('.playbook-editor .suggest-widget.visible');
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Control+Space');
    try {
      await widget.waitFor({ state: 'visible', timeout: 3000 });
      return (await widget.textContent()) ?? '';
    } catch {
      /* try again */
    }
  }
  throw new Error('no suggestion widget');
}

describe('walkthrough: roles and the playbook editor', () => {
  it('marks hosts client/server, shows where each step runs, and edits a playbook with live schema errors', async () => {
    const c = await server.api('cases.create', { name: 'roles-and-editor' });
    await server.api('hosts.add', { caseId: c.id, destination: 'client-a.invalid', name: 'client-a' });
    const filer = await server.api('hosts.add', { caseId: c.id, destination: 'filer.invalid', name: 'filer' });
    const { page, errors, offHostRequests, context } = await openApp(browser, server, `#/case/${c.id}/walkthrough`);
    try {
      // ---- roles ----
      await page.getByTestId('playbook-select').selectOption('stuck-process');
      await page.getByTestId('run-host-filer').check();
      await expect.poll(() => page.getByTestId('plan-hosts-server-locks').textContent()).toContain('Runs on no host');
      await page.getByTestId('run-role-filer').selectOption('server');
      await expect.poll(() => page.getByTestId('plan-hosts-server-locks').textContent()).toBe('Runs on: filer');
      expect(await page.getByTestId('plan-hosts-ps-sample').textContent()).toBe('Runs on: client-a');
      expect(await page.getByTestId('plan-hosts-statd-status').textContent()).toBe('Runs on: client-a, filer');
      await page.getByTestId('run-role-filer').selectOption('both');
      await expect.poll(() => page.getByTestId('plan-hosts-ps-sample').textContent()).toBe('Runs on: client-a, filer');
      await page.getByTestId('run-role-filer').selectOption('server');
      // The roles reach runs.start (the hosts do not exist, so the run itself goes nowhere).
      await page.getByTestId('param-pid').fill('4242');
      const startReq = page.waitForRequest((r) => r.url().endsWith('/api/runs.start'));
      await page.getByTestId('start-run-button').click();
      const body = JSON.parse((await startReq).postData() ?? '{}') as { roles?: Record<string, string>; hostIds?: number[] };
      expect(body.roles?.[String(filer.id)]).toBe('server');
      expect(Object.values(body.roles ?? {}).sort()).toEqual(['client', 'server']);
      expect(body.hostIds).toHaveLength(2);
      await page.getByTestId('run-view').waitFor();

      // ---- the editor ----
      const yaml = (await server.api('playbooks.get', { id: 'stuck-process' })).yaml;
      const lines = yaml.split('\n');
      const timeoutLine = lines.findIndex((l) => l === '    timeout: 10s') + 1;
      const capturesLine = lines.findIndex((l, i) => i > timeoutLine && l === '    captures: ps') + 1;
      expect(timeoutLine).toBeGreaterThan(0);
      await page.getByTestId('new-run').click();
      await page.getByTestId('playbook-select').selectOption('stuck-process');
      await page.getByTestId('edit-playbook').click();
      const editor = page.getByTestId('playbook-editor');
      await editor.waitFor();
      await expect.poll(() => editor.getAttribute('data-state'), { timeout: 20_000 }).toBe('valid');
      expect(await page.getByTestId('playbook-validity').textContent()).toBe('valid');

      // Break a step's timeout: a marker on that line, and the problem listed with its line.
      await gotoLineEnd(page, timeoutLine);
      for (let i = 0; i < 3; i++) await page.keyboard.press('Backspace');
      await page.keyboard.type('soon');
      await expect.poll(() => editor.getAttribute('data-state'), { timeout: 10_000 }).toBe('invalid');
      const problem = page.getByTestId('playbook-problem');
      await expect.poll(() => problem.count()).toBe(1);
      expect(await problem.getAttribute('data-line')).toBe(String(timeoutLine));
      expect(await page.getByTestId('playbook-problems').textContent()).toMatch(/duration/);
      await expect.poll(() => page.locator('.playbook-editor .squiggly-error').count()).toBeGreaterThan(0);
      expect(await page.getByTestId('playbook-download').isDisabled()).toBe(true);

      // Fix it (to a different valid value): the marker and the problem clear.
      for (let i = 0; i < 4; i++) await page.keyboard.press('Backspace');
      await page.keyboard.type('11s');
      await expect.poll(() => editor.getAttribute('data-state'), { timeout: 10_000 }).toBe('valid');
      await expect.poll(() => page.locator('.playbook-editor .squiggly-error').count()).toBe(0);
      expect(await problem.count()).toBe(0);

      // Completion offers the schema's captures kinds.
      await gotoLineEnd(page, capturesLine);
      await page.keyboard.press('Backspace');
      await page.keyboard.press('Backspace');
      expect(await suggestions(page)).toContain('proc-locks');
      await page.keyboard.press('Escape');
      await page.keyboard.type('ps');
      await expect.poll(() => editor.getAttribute('data-state'), { timeout: 10_000 }).toBe('valid');

      // The edited, valid copy downloads.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('playbook-download').click()]);
      expect(download.suggestedFilename()).toBe('stuck-process.yaml');
      const saved = path.join(tmp, 'saved.yaml');
      await download.saveAs(saved);
      const text = readFileSync(saved, 'utf8');
      expect(text.split('\n')[timeoutLine - 1]).toBe('    timeout: 11s');
      expect(text.split('\n').filter((l, i) => l !== lines[i])).toEqual(['    timeout: 11s']);
      expect((await server.api('playbooks.validate', { yaml: text })).ok).toBe(true);

      await page.getByTestId('playbook-editor-close').click();
      await page.getByTestId('start-run').waitFor();
      expect(await pwned(page)).toBe(false);
      expect(offHostRequests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
