/**
 * Issue 6, end to end in Debian Chromium through the browser mode: a case built from real lab captures, dmesg
 * and strace of three hosts; zoom the timeline to a 5-second window; click an error reply and land on that
 * packet in the viewer; annotate and star; search; export HTML and reopen it with the network blocked.
 * Hostile text in the artifacts (<script>, javascript: links, ANSI escapes) must show as text everywhere and
 * never run: a window.__pwned canary is installed in every page.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Event } from '../../shared/api/contract';
import { ensureRendererBuilt, launchChromium, openApp, pageErrors, pwned, ROOT, startCasefile, type CasefileServer } from './harness';

const FIX = path.join(ROOT, 'test', 'fixtures');
let server: CasefileServer;
let browser: Browser;
let tmp: string;

/** Payloads a hostile host could put in its logs. Each, if it ever ran, would set window.__pwned. */
const SCRIPT = '<script>window.__pwned=1</script>';
const IMG = '<img src=x onerror="window.__pwned=1">';
const JSLINK = '[click me](javascript:window.__pwned=1)';
const ANSI = '\u001b[31mRED-ALERT\u001b[0m';

function hostileDmesg(): string {
  // dmesg -T lines on the same day as the lab capture, so they sit on the same timeline.
  return [
    `[Sat Nov 21 22:56:00 2026] nfs: hostile ${SCRIPT} mount message`,
    `[Sat Nov 21 22:56:01 2026] lockd: ${IMG} ${JSLINK}`,
    `[Sat Nov 21 22:56:02 2026] kernel: ${ANSI} colour codes and a bidi \u202Eoverride`,
    // A lock-manager line in the minute of the lab's NLM conflict capture (23:09:20 onwards): part of its evidence chain.
    `[Sat Nov 21 23:09:30 2026] lockd: server 10.231.0.13 not responding ${SCRIPT}`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  await ensureRendererBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'casefile-e2e-inv-'));
  writeFileSync(path.join(tmp, 'hostile-dmesg.txt'), hostileDmesg());
  server = await startCasefile();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function importFiles(page: Page, files: string[], host: string): Promise<void> {
  await page.getByTestId('import-files').setInputFiles(files);
  await page.getByTestId('import-host').fill(host);
  await page.getByTestId('import-button').click();
  for (const f of files) await page.getByTestId(`artifact-${path.basename(f)}`).waitFor({ timeout: 60_000 });
}

interface CanvasInfo {
  start: bigint;
  end: bigint;
  plotLeft: number;
  width: number;
  lanes: { key: string; y: number; h: number }[];
  box: { x: number; y: number };
}

async function canvasInfo(page: Page): Promise<CanvasInfo> {
  const c = page.getByTestId('timeline');
  // Let input land in the next frame before reading the state the controller publishes on the canvas.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await expect.poll(() => c.getAttribute('data-loaded'), { timeout: 20_000 }).toBe('yes');
  const box = (await c.boundingBox())!;
  return {
    start: BigInt((await c.getAttribute('data-start-ns'))!),
    end: BigInt((await c.getAttribute('data-end-ns'))!),
    plotLeft: Number(await c.getAttribute('data-plot-left')),
    width: box.width,
    lanes: JSON.parse((await c.getAttribute('data-lanes'))!) as CanvasInfo['lanes'],
    box: { x: box.x, y: box.y },
  };
}

/** Monaco's visible text (it renders spaces as no-break spaces). */
async function editorText(page: Page): Promise<string> {
  return ((await page.locator('.view-lines').textContent()) ?? '').replace(/\u00a0/g, ' ');
}

function xOf(ci: CanvasInfo, t: bigint): number {
  const plotW = ci.width - ci.plotLeft;
  return ci.box.x + ci.plotLeft + (Number(t - ci.start) / Number(ci.end - ci.start)) * plotW;
}

describe('investigation surface in the browser', () => {
  it('builds a 3-host case, zooms to 5 s, follows an error reply to its packet, annotates, searches and exports offline HTML', async () => {
    const { page, errors, offHostRequests, context } = await openApp(browser, server);
    try {
      await page.getByTestId('new-case-name').fill('nlm-incident');
      await page.getByTestId('create-case').click();
      await page.getByTestId('case-title').waitFor();

      // Evidence from three hosts, through the import UI (artifacts.import).
      await page.getByTestId('tab-artifacts').click();
      await importFiles(page, [path.join(FIX, 'pcaps', 'lab__nlm-conflict.pcap'), path.join(FIX, 'pcaps', 'lab__statd-down.pcap')], 'filer');
      await importFiles(page, [path.join(FIX, 'e2e', 'lab-dmesg-T.txt')], 'client-a');
      await importFiles(page, [path.join(FIX, 'e2e', 'lnav__strace_f_ttt_T.log'), path.join(tmp, 'hostile-dmesg.txt')], 'client-b');
      const caseId = Number(/#\/case\/(\d+)/.exec(page.url())![1]);
      const detail = await server.api('cases.get', { caseId });
      expect(detail.hosts.map((h) => h.name).sort()).toEqual(['client-a', 'client-b', 'filer']);
      expect(detail.artifacts.every((a) => a.eventCount > 0)).toBe(true);

      // The error reply: NLM4_DENIED in the lab capture.
      const rpcs: Event[] = await server.api('events.list', { caseId, kinds: ['rpc'], limit: 5000 });
      const denied = rpcs.find((e) => /NLM4_DENIED\b/.test(e.text))!;
      expect(denied).toBeDefined();
      const t = BigInt(denied.correctedNs ?? denied.tsNs!);
      const filer = detail.hosts.find((h) => h.name === 'filer')!;

      // Timeline: first a minute around it (typed window), then a 5-second brush (shift-drag).
      await page.getByTestId('tab-timeline').click();
      await canvasInfo(page);
      const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();
      await page.getByTestId('tl-from').fill(iso(t - 30_000_000_000n));
      await page.getByTestId('tl-to').fill(iso(t + 30_000_000_000n));
      await page.getByTestId('tl-go').click();
      let ci = await canvasInfo(page);
      expect(ci.end - ci.start).toBe(60_000_000_000n);
      const y0 = ci.box.y + ci.lanes[0]!.y + 5;
      await page.keyboard.down('Shift');
      await page.mouse.move(xOf(ci, t - 2_000_000_000n), y0);
      await page.mouse.down();
      await page.mouse.move(xOf(ci, t), y0, { steps: 4 });
      await page.mouse.move(xOf(ci, t + 3_000_000_000n), y0, { steps: 4 });
      await page.mouse.up();
      await page.keyboard.up('Shift');
      ci = await canvasInfo(page);
      const span = Number(ci.end - ci.start) / 1e9;
      expect(span).toBeGreaterThan(4.9);
      expect(span).toBeLessThan(5.1);
      expect(ci.start < t && t < ci.end).toBe(true);

      // Click the reply's mark in the filer's rpc lane; an aggregate zooms in, so retry until the event is selected.
      const lane = ci.lanes.find((l) => l.key.startsWith(`${filer.id}|`) && /rpc/.test(l.key))!;
      expect(lane).toBeDefined();
      for (let i = 0; i < 5; i++) {
        ci = await canvasInfo(page);
        await page.mouse.click(xOf(ci, t) + 1, ci.box.y + lane.y + lane.h / 2);
        const sel = page.getByTestId('selected-event');
        if (await sel.isVisible().catch(() => false)) {
          const text = (await sel.textContent()) ?? '';
          if (text.includes('NLM4_DENIED')) break;
        }
        await page.waitForTimeout(300);
      }
      await expect.poll(() => page.getByTestId('selected-event').textContent()).toContain('NLM4_DENIED');
      // Related events (same XID / lock owner) light up.
      await expect.poll(() => page.getByTestId('related').count()).toBe(1);

      // Spans: in this 5-second window the filer's RPC lane is small enough to fetch whole, and its calls have latencies.
      await expect.poll(() => page.getByTestId('timeline').getAttribute('data-detail'), { timeout: 20_000 }).toContain(lane.key);
      expect(Number(await page.getByTestId('timeline').getAttribute('data-spans'))).toBeGreaterThan(0);

      // The evidence chain beside it: the reply heads the lock-protocol stage, the other NLM packets of the
      // minute follow, and the kernel's lockd line (hostile text, shown as text) is in the kernel stage.
      const chain = page.getByTestId('evidence-chain');
      await expect.poll(() => chain.getAttribute('data-state'), { timeout: 20_000 }).toBe('ready');
      const rpcItems = chain.locator('[data-testid="chain-item"][data-stage="rpc"]');
      expect(await rpcItems.first().getAttribute('data-event-id')).toBe(String(denied.id));
      const nlmInMinute = rpcs.filter((e) => e.data.program === 'nlm' && BigInt(e.correctedNs ?? e.tsNs ?? '0') - t <= 60_000_000_000n && t - BigInt(e.correctedNs ?? e.tsNs ?? '0') <= 60_000_000_000n);
      expect(await rpcItems.count()).toBe(Math.min(25, nlmInMinute.length));
      for (const id of await rpcItems.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-event-id'))))) expect(nlmInMinute.some((e) => e.id === id)).toBe(true);
      const kernelItems = chain.locator('[data-testid="chain-item"][data-stage="kernel"]');
      await expect.poll(() => kernelItems.count()).toBe(1);
      expect(await kernelItems.first().textContent()).toContain(`lockd: server 10.231.0.13 not responding ${SCRIPT}`);
      expect(await kernelItems.first().textContent()).toContain('client-b');
      // Its link opens the dmesg line in the viewer.
      await kernelItems.first().getByTestId('chain-open').click();
      await page.getByTestId('viewer').waitFor();
      await expect.poll(() => page.getByTestId('viewer').getAttribute('data-target-line'), { timeout: 20_000 }).toBe('4');
      await expect.poll(() => page.getByTestId('viewer-line').textContent(), { timeout: 20_000 }).toContain('lockd: server 10.231.0.13');
      // Back on the timeline the kernel line is selected; its chain links back to the reply.
      await page.getByTestId('tab-timeline').click();
      await expect.poll(() => chain.getAttribute('data-state'), { timeout: 20_000 }).toBe('ready');
      await chain.locator(`[data-testid="chain-item"][data-event-id="${denied.id}"]`).getByTestId('chain-open').click();
      await expect.poll(() => page.getByTestId('viewer').getAttribute('data-target-line'), { timeout: 20_000 }).toBe(String(denied.line));
      await page.getByTestId('tab-timeline').click();
      await expect.poll(() => page.getByTestId('selected-event').textContent()).toContain('NLM4_DENIED');

      // ...and land on that packet in the viewer.
      await page.getByTestId('open-in-viewer').click();
      const viewer = page.getByTestId('viewer');
      await viewer.waitFor();
      await expect.poll(() => viewer.getAttribute('data-target-line'), { timeout: 20_000 }).toBe(String(denied.line));
      await expect.poll(() => page.getByTestId('viewer-line').textContent(), { timeout: 20_000 }).toContain('NLM4_DENIED');
      await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain(`#${denied.line} `);
      // The packet decoded (RPC header, status) with its raw bytes.
      await expect.poll(() => page.getByTestId('packet-decoded').textContent(), { timeout: 20_000 }).toContain(String(denied.data.xid));
      expect(await page.getByTestId('packet-hex').textContent()).toMatch(/^00000000: [0-9a-f]{4} /);

      // Annotate the packet's line and star it; then annotate the event itself with hostile Markdown.
      await page.getByTestId('annotate-line').click();
      await page.getByTestId('annotation-body').fill('Server **denies** the lock: lab-a holds it.');
      await page.getByTestId('marker-diagnosis').check();
      await page.getByTestId('annotation-star').check();
      await page.getByTestId('annotation-save').click();
      await page.getByTestId('annotation-editor').waitFor({ state: 'detached' });
      await page.getByTestId('tab-timeline').click();
      await page.getByTestId('annotate-event').click();
      await page.getByTestId('annotation-body').fill(`Key reply. ${JSLINK} ${SCRIPT} ${IMG}`);
      await page.getByTestId('annotation-star').check();
      await page.getByTestId('annotation-save').click();
      await page.getByTestId('annotation-editor').waitFor({ state: 'detached' });
      await page.getByTestId('tab-annotations').click();
      await expect.poll(() => page.locator('.annotation').count()).toBe(2);
      expect(await page.locator('.annotation .star.on').count()).toBe(2);
      const annText = (await page.locator('.annotation').allTextContents()).join('\n');
      expect(annText).toContain(SCRIPT);
      expect(annText).toContain('[click me](javascript:window.__pwned=1)');

      // Search: the denial and the hostile text are found and shown as text.
      await page.getByTestId('tab-search').click();
      await page.getByTestId('search-query').fill('DENIED');
      await page.getByTestId('search-run').click();
      await expect.poll(() => page.getByTestId('search-hit').count()).toBeGreaterThan(0);
      expect((await page.getByTestId('search-results').textContent()) ?? '').toContain('NLM4_');
      await page.getByTestId('search-save').click();
      await expect.poll(() => page.getByTestId('saved-search').allTextContents()).toContain('DENIED');
      await page.getByTestId('search-query').fill('pwned');
      await page.getByTestId('search-run').click();
      await expect.poll(() => page.getByTestId('search-hit').count()).toBeGreaterThan(0);
      await page.getByTestId('search-hit').first().click();
      await page.getByTestId('viewer').waitFor();
      await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain('window.__pwned');

      // Events table: hostile lines as text, ANSI escapes made visible (␛), not interpreted.
      await page.getByTestId('tab-events').click();
      await page.getByTestId('events-host').selectOption({ label: 'client-b' });
      await page.getByTestId('events-kind').selectOption('kernel');
      await expect.poll(() => page.getByTestId('events-table').textContent()).toContain(SCRIPT);
      const table = (await page.getByTestId('events-table').textContent()) ?? '';
      expect(table).toContain('\u241b[31mRED-ALERT');
      expect(table).not.toContain('\u001b');
      expect(table).toContain('<U+202E>');

      // Nothing hostile became markup anywhere in the app.
      expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(await pwned(page)).toBe(false);

      // Charts: RPC latency per operation drawn from the captures.
      await page.getByTestId('tab-charts').click();
      await expect.poll(() => page.getByTestId('chart-latency').locator('canvas').count(), { timeout: 20_000 }).toBeGreaterThan(0);

      // Export HTML, shown in a sandboxed frame, downloaded, then reopened with the network blocked.
      await page.getByTestId('tab-export').click();
      await page.getByTestId('export-html').click();
      await page.getByTestId('report-html').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('report-html').getAttribute('sandbox')).toBe('');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
      const htmlPath = path.join(tmp, download.suggestedFilename());
      await download.saveAs(htmlPath);
      expect(htmlPath.endsWith('.html')).toBe(true);
      const html = readFileSync(htmlPath, 'utf8');
      expect(html).not.toContain(SCRIPT); // escaped in the file itself

      const offline = await browser.newContext({ offline: true, javaScriptEnabled: true });
      await offline.addInitScript(() => {
        (window as unknown as { __pwned: boolean }).__pwned = false;
      });
      const attempted: string[] = [];
      await offline.route('**/*', (route) => {
        const u = route.request().url();
        if (u.startsWith('file:') || u.startsWith('data:')) return route.continue();
        attempted.push(u);
        return route.abort('internetdisconnected');
      });
      const rp = await offline.newPage();
      const failed: string[] = [];
      rp.on('requestfailed', (r) => failed.push(r.url()));
      await rp.goto(pathToFileURL(htmlPath).href);
      await rp.waitForLoadState('load');
      const body = await rp.evaluate(() => document.body.innerText);
      expect(body).toContain('nlm-incident');
      expect(body).toMatch(/Server (\*\*)?denies(\*\*)? the lock/);
      expect(body).toMatch(/NLM4_DENIED/);
      expect(body).toContain(SCRIPT); // hostile text visible as text in the report
      // The timeline picture and any images are inline and actually rendered.
      const pictures = await rp.evaluate(() => ({
        svgs: document.querySelectorAll('svg').length,
        brokenImgs: Array.from(document.images).filter((i) => !i.complete || i.naturalWidth === 0).length,
        imgs: document.images.length,
        jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
        scripts: Array.from(document.scripts).filter((s) => s.textContent?.includes('__pwned')).length,
      }));
      expect(pictures.svgs + pictures.imgs).toBeGreaterThan(0);
      expect(pictures.brokenImgs).toBe(0);
      expect(pictures.jsLinks).toBe(0);
      expect(pictures.scripts).toBe(0);
      expect(attempted).toEqual([]);
      expect(failed).toEqual([]);
      expect(await pwned(rp)).toBe(false);
      await offline.close();

      expect(await pwned(page)).toBe(false);
      expect(offHostRequests).toEqual([]);
      expect(await pageErrors(page, errors)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 300_000);
});
