/**
 * The whole hostile-text corpus (test/fixtures/hostile/xss-corpus.txt) through the real UI in Debian Chromium,
 * browser mode: every payload arrives as a host name, as a kernel event's text, as a line of an artifact and as
 * the body of an annotation typed into the editor; then each is looked at where a user would see it — the
 * artifact viewer (Monaco and its status line), the timeline's lane and annotation labels (drawn on a canvas),
 * the selected-event panel, the events table, the annotations panel (Markdown), the HTML report in its sandboxed
 * frame and the downloaded report reopened as a page of its own.
 *
 * Three independent signals, each of which would catch an executed or injected payload:
 * - the window.__pwned canary (every payload that could run sets it),
 * - a MutationObserver installed before any page script, recording every element that appears with an on*
 *   attribute, a javascript:/data: URL, an attribute or inline script mentioning the canary or evil.example,
 *   or a tag the app never renders (object, embed, base, math, noscript, meta refresh, foreign iframes),
 * - Content-Security-Policy violation reports (an inline handler blocked by the CSP is still an injection).
 * A positive control at the end shows the detector does fire on an injected payload.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { clip, visible } from '../../renderer/util/text';
import { ensureRendererBuilt, launchChromium, openApp, pageErrors, pwned, ROOT, startCasefile, type CasefileServer } from './harness';

const CORPUS = readFileSync(path.join(ROOT, 'test', 'fixtures', 'hostile', 'xss-corpus.txt'), 'utf8').split('\n').filter(Boolean);

let server: CasefileServer;
let browser: Browser;
let tmp: string;

beforeAll(async () => {
  await ensureRendererBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'casefile-e2e-xss-'));
  [server, browser] = await Promise.all([startCasefile(), launchChromium()]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface XssProbe {
  injected: string[];
  violations: string[];
  drawn: string[];
}

/**
 * Runs before any script of every page and frame of the context. Records injected elements, CSP violations and
 * every string drawn on a canvas (the timeline's labels are canvas text, not DOM).
 */
function installProbe(): void {
  const w = window as unknown as { __xss: XssProbe };
  w.__xss = { injected: [], violations: [], drawn: [] };
  const URLISH = /^(href|src|srcset|action|formaction|data|xlink:href|srcdoc|content|style|background|poster|ping|manifest|codebase|http-equiv)$/i;
  const APP_NEVER = new Set(['OBJECT', 'EMBED', 'BASE', 'MATH', 'MGLYPH', 'NOSCRIPT', 'FRAME', 'FRAMESET', 'APPLET']);
  const describeEl = (el: Element): string => el.outerHTML.slice(0, 200);
  const check = (el: Element): void => {
    let why: string | undefined;
    // The export panel's own report frame carries the whole (escaped) report in srcdoc; its document is probed itself.
    const ownReport = el.tagName === 'IFRAME' && el.getAttribute('data-testid') === 'report-html';
    for (const a of Array.from(el.attributes)) {
      if (ownReport && a.name === 'srcdoc') continue;
      if (/^on/i.test(a.name)) why = `handler attribute ${a.name}`;
      // Text in value/title/aria-* attributes is inert; URL- and code-bearing attributes are not.
      else if (URLISH.test(a.name) && /^\s*(javascript|vbscript|data):|pwned|evil\.example/i.test(a.value)) why = `hostile ${a.name}`;
    }
    if (APP_NEVER.has(el.tagName.toUpperCase())) why = `element the app never renders: ${el.tagName}`;
    if (el.tagName === 'SCRIPT' && /pwned/.test(el.textContent ?? '')) why = 'inline script from a payload';
    if (el.tagName === 'META' && /refresh/i.test(el.getAttribute('http-equiv') ?? '')) why = 'meta refresh';
    if (el.tagName === 'IFRAME' && el.getAttribute('data-testid') !== 'report-html') why = 'foreign iframe';
    if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') why = 'img src=x';
    if (why) w.__xss.injected.push(`${why}: ${describeEl(el)}`);
  };
  const walk = (n: Node): void => {
    if (n.nodeType !== 1) return;
    check(n as Element);
    for (const c of Array.from((n as Element).querySelectorAll('*'))) check(c);
  };
  new MutationObserver((muts) => {
    for (const m of muts) {
      if (m.type === 'attributes') walk(m.target);
      for (const n of Array.from(m.addedNodes)) walk(n);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
  // 'eval' blocks are the app's own libraries probing whether eval is allowed (zod's JIT check, caught by them);
  // markup injection shows up as 'inline' (handlers, <script>) or as a blocked URL, which are all kept.
  document.addEventListener('securitypolicyviolation', (e) => e.blockedURI !== 'eval' && w.__xss.violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (this: CanvasRenderingContext2D, text: string, x: number, y: number, maxWidth?: number): void {
    w.__xss.drawn.push(String(text));
    return maxWidth === undefined ? fillText.call(this, text, x, y) : fillText.call(this, text, x, y, maxWidth);
  };
}

/** What the probe saw in a page or frame, plus a fresh scan of its current DOM (catches anything before the observer). */
async function probe(target: Page | Frame): Promise<XssProbe & { pwned: boolean }> {
  return target.evaluate(() => {
    const w = window as unknown as { __xss?: XssProbe; __pwned?: unknown };
    const injected = [...(w.__xss?.injected ?? [])];
    for (const el of Array.from(document.querySelectorAll('*'))) {
      for (const a of Array.from(el.attributes)) {
        if (a.name === 'srcdoc' && el.getAttribute('data-testid') === 'report-html') continue;
        if (/^on/i.test(a.name)) injected.push(`(scan) ${a.name} on ${el.tagName}`);
        else if (/^(href|src|srcset|action|formaction|data|xlink:href|srcdoc|style|content|background|poster)$/i.test(a.name) && /pwned|evil\.example/i.test(a.value)) injected.push(`(scan) ${a.name}=${a.value} on ${el.tagName}`);
      }
      if (el.tagName === 'SCRIPT' && /pwned/.test(el.textContent ?? '')) injected.push('(scan) inline script');
      if (/^(OBJECT|EMBED|BASE|MATH|NOSCRIPT)$/.test(el.tagName)) injected.push(`(scan) ${el.tagName}`);
    }
    for (const a of Array.from(document.querySelectorAll('a[href], iframe[src], form[action]'))) {
      const u = a.getAttribute('href') ?? a.getAttribute('src') ?? a.getAttribute('action') ?? '';
      if (/^\s*(javascript|data|vbscript):/i.test(u)) injected.push(`(scan) ${a.tagName} ${u}`);
    }
    return { injected, violations: w.__xss?.violations ?? [], drawn: w.__xss?.drawn ?? [], pwned: w.__pwned !== undefined && w.__pwned !== false };
  });
}

async function expectClean(target: Page | Frame, where: string): Promise<XssProbe> {
  const p = await probe(target);
  expect(p.injected, `${where}: injected elements`).toEqual([]);
  expect(p.violations, `${where}: CSP violations`).toEqual([]);
  expect(p.pwned, `${where}: window.__pwned`).toBe(false);
  return p;
}

/** Monaco's visible text (it renders spaces as no-break spaces). */
async function editorText(page: Page): Promise<string> {
  return ((await page.locator('.view-lines').textContent()) ?? '').replace(/\u00a0/g, ' ');
}

// eslint-disable-next-line no-control-regex
const hasControl = (s: string): boolean => /[\u0000-\u001f\u007f]/.test(s);
/** Markdown gives these meaning (link, image, code span), so an annotation shows them rendered, not verbatim. */
const isMarkdownSyntax = (s: string): boolean => /\]\(|^`|^#/.test(s);

describe('XSS corpus through the browser UI', () => {
  it('every payload stays text in the viewer, timeline, selected event, events table, annotations and reports', async () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(35);
    // Payloads that would set the canary if they ever ran: the canary is a meaningful signal for them.
    expect(CORPUS.filter((p) => /onerror=|onload=|onfocus=|ontoggle=|<script>/.test(p) && p.includes('window.__pwned=1')).length).toBeGreaterThanOrEqual(15);

    // The case: one host per payload (its name is the payload) with one kernel line (its text is the payload),
    // plus the corpus as one text artifact for the viewer.
    const c = await server.api('cases.create', { name: 'xss-corpus' });
    const caseId = c.id;
    const artOf = new Map<string, number>();
    for (const [i, p] of CORPUS.entries()) {
      const ts = `[Sat Nov 21 22:${String(10 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} 2026] `;
      const a = await server.api('artifacts.import', { caseId, name: `k${i}.txt`, base64: Buffer.from(`${ts}${p}\n`).toString('base64'), kind: 'dmesg', hostName: p });
      artOf.set(p, a.id);
    }
    const corpusArt = await server.api('artifacts.import', { caseId, name: 'corpus.txt', base64: Buffer.from(CORPUS.join('\n') + '\n').toString('base64'), kind: 'text', hostName: 'viewer-host' });
    const detail = await server.api('cases.get', { caseId });
    const hostNames = new Set(detail.hosts.map((h) => h.name));
    for (const p of CORPUS) expect(hostNames.has(p), `host named ${JSON.stringify(p)}`).toBe(true);
    const events = await server.api('events.list', { caseId, kinds: ['kernel'], limit: 1000 });
    const eventOf = new Map(CORPUS.map((p) => [p, events.find((e) => e.artifactId === artOf.get(p))]));
    for (const p of CORPUS) expect(eventOf.get(p)?.text, `event for ${JSON.stringify(p)}`).toContain(p);

    const { context, page, errors, offHostRequests } = await openApp(browser, server);
    try {
      await context.addInitScript(installProbe);
      await page.setViewportSize({ width: 1600, height: 1400 });
      await page.goto(`${server.url}#/case/${caseId}/artifacts`);
      await page.getByTestId('case-title').waitFor();

      // 1. Artifact viewer: all lines in Monaco, and each line (via go-to) in the status line, verbatim.
      await page.getByTestId(`artifact-corpus.txt`).click();
      const viewer = page.getByTestId('viewer');
      await viewer.waitFor();
      await expect.poll(() => viewer.getAttribute('data-artifact-id')).toBe(String(corpusArt.id));
      // Monaco draws only the lines that fit its current height, and its first layout can come before the
      // container has its final size (automaticLayout catches up on the next resize observation): wait for the
      // whole corpus to be drawn rather than reading the first frame that shows line 1.
      const drawable = CORPUS.filter((p) => !hasControl(p));
      const missingFromMonaco = async (): Promise<string[]> => {
        const text = await editorText(page);
        return drawable.filter((p) => !text.includes(p));
      };
      await expect.poll(missingFromMonaco, { timeout: 20_000, message: 'payloads not shown verbatim in Monaco' }).toEqual([]);
      for (const [i, p] of CORPUS.entries()) {
        await page.getByTestId('viewer-goto').fill(String(i + 1));
        await page.getByTestId('viewer-goto').press('Enter');
        await expect.poll(() => page.getByTestId('viewer-line').textContent(), { timeout: 5000 }).toBe(`${i + 1}: ${clip(visible(p), 400)}`);
      }
      await expectClean(page, 'viewer');

      // 2. Annotations typed into the editor, one per event, each body a payload (the Markdown preview renders it live).
      await page.getByTestId('tab-events').click();
      await page.getByTestId('events-kind').selectOption('kernel');
      await expect.poll(() => page.locator('[data-testid^="event-"][data-kind="kernel"]').count(), { timeout: 20_000 }).toBe(CORPUS.length);
      const table = (await page.getByTestId('events-table').textContent()) ?? '';
      for (const p of CORPUS) expect(table, `events table shows ${JSON.stringify(p)}`).toContain(visible(p));
      for (const p of CORPUS) {
        await page.getByTestId(`annotate-${eventOf.get(p)!.id}`).click();
        await page.getByTestId('annotation-body').fill(p);
        await page.getByTestId('annotation-save').click();
        await page.getByTestId('annotation-editor').waitFor({ state: 'detached' });
      }
      await expectClean(page, 'annotation editor');

      // 3. Selected-event panel: select each event (events table), look at it on the timeline.
      for (const p of CORPUS) {
        const ev = eventOf.get(p)!;
        await page.getByTestId('tab-events').click();
        await page.getByTestId(`event-${ev.id}`).click();
        await page.getByTestId('tab-timeline').click();
        const sel = page.getByTestId('selected-event');
        await expect.poll(() => sel.locator('pre.event-text').textContent(), { timeout: 5000 }).toBe(visible(ev.text));
        expect(await sel.locator('strong').first().textContent()).toContain(`on ${visible(p)}`);
      }

      // 4. Timeline labels: fit the case so every lane and annotation is in view; the canvas drew each host
      // name (clipped, control characters made visible) and each annotation's first line as text.
      await page.getByTestId('tl-fit').click();
      const tl = page.getByTestId('timeline');
      await expect.poll(() => tl.getAttribute('data-loaded'), { timeout: 20_000 }).toBe('yes');
      const lanes = JSON.parse((await tl.getAttribute('data-lanes'))!) as { hostId: number; lane: string }[];
      const nameOf = new Map(detail.hosts.map((h) => [h.id, h.name]));
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const drawn = new Set((await probe(page)).drawn);
      for (const p of CORPUS) {
        const host = detail.hosts.find((h) => h.name === p)!;
        const lane = lanes.find((l) => l.hostId === host.id);
        expect(lane, `lane of host ${JSON.stringify(p)}`).toBeDefined();
        expect(drawn.has(clip(visible(`${nameOf.get(host.id)!} · ${lane!.lane}`), 26)), `label of host ${JSON.stringify(p)}`).toBe(true);
        expect(drawn.has(clip(visible(p), 30)), `annotation label ${JSON.stringify(p)}`).toBe(true);
      }
      await expectClean(page, 'timeline');

      // 5. Annotations panel: Markdown rendered with React elements, payloads shown as text.
      await page.getByTestId('tab-annotations').click();
      await expect.poll(() => page.locator('.annotation').count(), { timeout: 20_000 }).toBe(CORPUS.length);
      const annText = (await page.locator('.annotation').allTextContents()).join('\n');
      const literal = CORPUS.filter((p) => !hasControl(p) && !isMarkdownSyntax(p));
      expect(literal.length).toBeGreaterThanOrEqual(30);
      for (const p of literal) expect(annText, `annotation shows ${JSON.stringify(p)}`).toContain(p);
      expect(await page.locator('.annotation a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')).filter((h) => !/^https?:|^#/.test(h ?? '')))).toEqual([]);
      expect(await page.locator('.annotation img').count()).toBe(0);
      await expectClean(page, 'annotations');

      // 6. HTML report in the app's sandboxed frame, then downloaded and opened as a page with scripts enabled.
      await page.getByTestId('tab-export').click();
      await page.getByTestId('export-html').click();
      const frameEl = page.getByTestId('report-html');
      await frameEl.waitFor({ timeout: 30_000 });
      expect(await frameEl.getAttribute('sandbox')).toBe('');
      const frame = (await frameEl.elementHandle())!;
      const reportFrame = (await frame.contentFrame())!;
      await expect.poll(() => reportFrame.evaluate(() => document.body?.innerText ?? ''), { timeout: 20_000 }).toContain(CORPUS[0]!);
      await expectClean(reportFrame, 'report frame');
      await expectClean(page, 'export panel');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
      const htmlPath = path.join(tmp, download.suggestedFilename());
      await download.saveAs(htmlPath);
      expect(await pwned(page)).toBe(false);
      // Terminal escapes from host names and events do not reach the file raw (someone will `cat` or `less` it).
      expect(readFileSync(htmlPath, 'utf8')).not.toMatch(/\u001b/);

      // The file as a user would open it: its own page, scripts enabled, every non-file request refused and recorded.
      const reportCtx = await browser.newContext({ javaScriptEnabled: true });
      try {
        await reportCtx.addInitScript(() => ((window as unknown as { __pwned: boolean }).__pwned = false));
        await reportCtx.addInitScript(installProbe);
        const attempted: string[] = [];
        await reportCtx.route('**/*', (route) => {
          const u = route.request().url();
          if (u.startsWith('file:')) return route.continue();
          attempted.push(u);
          return route.abort('blockedbyclient');
        });
        const rp = await reportCtx.newPage();
        await rp.goto(pathToFileURL(htmlPath).href);
        await rp.waitForLoadState('load');
        const body = await rp.evaluate(() => document.body.innerText);
        for (const p of CORPUS.filter((x) => !hasControl(x))) expect(body, `report shows ${JSON.stringify(p)}`).toContain(p);
        await expectClean(rp, 'HTML report page');
        expect(attempted).toEqual([]);
      } finally {
        await reportCtx.close();
      }

      expect(await pwned(page)).toBe(false);
      expect(offHostRequests).toEqual([]);
      expect(await pageErrors(page, errors)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('positive control: the same probe does see an injected payload', async () => {
    const context: BrowserContext = await browser.newContext();
    try {
      await context.addInitScript(() => ((window as unknown as { __pwned: boolean }).__pwned = false));
      await context.addInitScript(installProbe);
      const page = await context.newPage();
      await page.setContent('<!doctype html><p id=t>text</p>');
      await page.evaluate((p) => (document.getElementById('t')!.innerHTML = p), CORPUS.find((p) => p.startsWith('<img src=x onerror='))!);
      await expect.poll(async () => (await probe(page)).pwned).toBe(true);
      expect((await probe(page)).injected.length).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });
});
