import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';

/** Every payload of the hostile corpus, arriving as kernel messages, log lines and annotations, stays text in reports. */
const corpus = readFileSync(resolve(__dirname, '..', 'fixtures', 'hostile', 'xss-corpus.txt'), 'utf8').split('\n').filter(Boolean);
let backend: Backend;
let caseId: number;

beforeAll(async () => {
  backend = new Backend({ db: openDb(':memory:') });
  caseId = backend.store.createCase('hostile').id;
  const dmesg = corpus.map((p, i) => `[${(i + 1).toFixed(6).padStart(12)}] ${p}`).join('\n') + '\n';
  await backend.importArtifact(caseId, '<script>name.txt', Buffer.from(dmesg), { hostName: '<img src=x onerror=alert(1)>', kind: 'dmesg', bootTimeNs: 1_763_700_000_000_000_000n });
  await backend.importArtifact(caseId, 'plain.log', Buffer.from(corpus.join('\n')), { kind: 'text' });
  const evs = backend.store.listEvents(caseId, { limit: 100 });
  for (const [i, p] of corpus.entries()) {
    const ev = evs[i % evs.length]!;
    await backend.call('annotations.add', { caseId, target: 'event', eventId: ev.id, body: p, starred: i % 2 === 0, marker: 'key-moment' });
  }
});
afterAll(() => backend.store.db.close());

describe('hostile text in reports', () => {
  it('has at least 35 payloads, all of which reached the case', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(35);
    expect(backend.store.listEvents(caseId, { kinds: ['kernel'], limit: 1000 }).length).toBe(corpus.length);
  });

  it('HTML report: no element or attribute from the payloads, everything escaped', async () => {
    const html = ((await backend.call('export.report', { caseId, format: 'html' })) as { content: string }).content;
    const tags = (html.match(/<\/?([a-z][a-z0-9]*)\b[^>]*>/gi) ?? []).map((t) => /<\/?([a-z][a-z0-9]*)/i.exec(t)![1]!.toLowerCase());
    const allowed = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'h3', 'p', 'table', 'tr', 'td', 'th', 'code', 'pre', 'ul', 'li', 'div', 'span', 'strong', 'br', 'svg', 'text', 'line', 'rect']);
    expect([...new Set(tags)].filter((t) => !allowed.has(t))).toEqual([]);
    const openTags = html.match(/<[a-z][^>]*>/gi) ?? [];
    expect(openTags.filter((t) => /\son\w+\s*=|\s(src|href|action|data|formaction|srcset)\s*=/i.test(t))).toEqual([]);
    expect(html).not.toMatch(/\u001b/);
    // Exactly one <style> (ours), without @import or url() (payload text containing them is escaped text).
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect(styles.length).toBe(1);
    expect(styles[0]).not.toMatch(/@import|url\(/);
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
  });

  it('Markdown report: no raw HTML tag and no live link from the payloads', async () => {
    const md = ((await backend.call('export.report', { caseId, format: 'md' })) as { content: string }).content;
    // Outside code spans, no unescaped "<tag" and no unescaped "](" link syntax survive.
    const outsideCode = md.replace(/(`+)[\s\S]*?\1/g, '');
    expect(outsideCode).not.toMatch(/(^|[^\\])<[a-z!/]/im);
    expect(outsideCode).not.toMatch(/(^|[^\\])\]\(/m);
    expect(md).not.toMatch(/\u001b/);
  });
});
