/**
 * The e2e harness's own check (pageErrors): the HTML report frame must hold nothing that could run, and what it
 * holds is reported; Chromium's "blocked script in the sandboxed frame" note is then not the report's and is
 * dropped. Real Chromium, a page of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, pageErrors } from './harness';

const NOTE = "console: Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed and the 'allow-scripts' permission is not set.";
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

async function withFrame(srcdoc: string, errors: string[]): Promise<string[]> {
  const page = await browser.newPage();
  try {
    await page.setContent('<iframe data-testid="report-html" sandbox=""></iframe>');
    await page.locator('iframe').evaluate((f, h) => f.setAttribute('srcdoc', h), srcdoc);
    return await pageErrors(page, errors);
  } finally {
    await page.close();
  }
}

describe('pageErrors', () => {
  it('drops the sandbox note for a report with nothing that runs, keeps other errors', async () => {
    expect(await withFrame('<h1>Report</h1><p>&lt;img src=x onerror=alert(1)&gt;</p>', [NOTE, 'pageerror: boom'])).toEqual(['pageerror: boom']);
  });
  it('reports what it found, whether Chromium noted a blocked script or not, when the report holds a handler, a script or a javascript: link', async () => {
    expect(await withFrame('<p><img src=x onerror="alert(1)"></p>', [NOTE])).toEqual(['report frame holds img onerror']);
    expect(await withFrame('<script>alert(1)</script><a href=" javascript:alert(1)">x</a>', [])).toEqual(['report frame holds script element', 'report frame holds a href']);
    expect(await withFrame('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', [NOTE])).toEqual(['report frame holds meta refresh', 'report frame holds meta content']);
  });
  it('keeps the note when there is no report frame to look at', async () => {
    const page = await browser.newPage();
    try {
      expect(await pageErrors(page, [NOTE])).toEqual([NOTE]);
    } finally {
      await page.close();
    }
  });
});
