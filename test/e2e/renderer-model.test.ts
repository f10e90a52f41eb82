/**
 * The renderer's React-free model: timeline coordinates (bigint ns <-> px), ticks, time zones, bucket
 * fetching and hit-testing, the safe Markdown subset and hostile-text display. Runs in Node (no browser).
 */
import { describe, expect, it } from 'vitest';
import { brushTo, centreOn, fit, MAX_SPAN_NS, MIN_SPAN_NS, nsPerPx, nsToPx, panBy, pxToNs, resize, spanOf, viewport, zoomAt } from '../../renderer/timeline/coords';
import { byLane, firstEndingAfter, laneKey, planFetch, severityClass, sliceServes, toTBuckets } from '../../renderer/timeline/data';
import { bucketExtent, hitBucket, layoutLanes, rowAt, AXIS_H, ANNOT_H, ROW_H } from '../../renderer/timeline/layout';
import { digitsFor, tickLabel, ticks, tickStep } from '../../renderer/timeline/ticks';
import { formatNs, isValidZone, timeParts, zoneOffsetNs } from '../../renderer/timeline/timefmt';
import { inlineText, parseInline, parseMarkdown, safeHref } from '../../renderer/markdown/parse';
import { clip, visible, visibleLines } from '../../renderer/util/text';
import { msTextToNs, nsToMsText, parseUserInstant } from '../../renderer/util/time';
import { parseRoute, routeHash } from '../../renderer/app/route';
import { evidenceRef } from '../../renderer/views/FindingsPanel';
import { PageIndex } from '../../renderer/viewer/paging';
import { hexdump } from '../../renderer/viewer/hexdump';
import { latencyScatter, rateLines } from '../../renderer/charts/series';

const S = 1_000_000_000n;
// 2024-05-01T12:00:00Z, an instant with a nanosecond tail that a float would lose.
const T0 = 1_714_564_800n * S + 123_456_789n;

describe('timeline coordinates', () => {
  it('maps ns to px and back exactly at nanosecond zoom, far from the epoch', () => {
    const vp = viewport(T0, T0 + 1000n, 1000); // 1 ns per px
    expect(nsToPx(vp, T0)).toBe(0);
    expect(nsToPx(vp, T0 + 1n)).toBe(1);
    expect(nsToPx(vp, T0 + 999n)).toBe(999);
    expect(pxToNs(vp, 0)).toBe(T0);
    expect(pxToNs(vp, 500)).toBe(T0 + 500n);
    // A float64 cannot even represent T0 + 1 distinctly from T0 + 0.
    expect(Number(T0 + 1n) === Number(T0)).toBe(true);
  });

  it('keeps sub-pixel positions at day zoom', () => {
    const day = 86_400n * S;
    const vp = viewport(T0, T0 + day, 1200);
    expect(nsToPx(vp, T0 + day / 2n)).toBe(600);
    expect(nsToPx(vp, T0 + day / 4800n)).toBeCloseTo(0.25, 2);
    expect(pxToNs(vp, 1200)).toBe(T0 + day);
    expect(nsToPx(vp, T0 - day)).toBe(-1200);
  });

  it('zooms around the anchor: the instant under the pointer stays under it', () => {
    const vp = viewport(T0, T0 + 10n * S, 1000);
    const anchor = pxToNs(vp, 250);
    const z = zoomAt(vp, 250, 0.5);
    expect(spanOf(z)).toBe(5n * S);
    expect(pxToNs(z, 250)).toBe(anchor);
    const out = zoomAt(z, 250, 2);
    expect(spanOf(out)).toBe(10n * S);
    expect(out.startNs).toBe(vp.startNs);
  });

  it('clamps zoom to 100 ns and 400 days', () => {
    let vp = viewport(T0, T0 + S, 800);
    for (let i = 0; i < 60; i++) vp = zoomAt(vp, 400, 0.25);
    expect(spanOf(vp)).toBe(MIN_SPAN_NS);
    for (let i = 0; i < 80; i++) vp = zoomAt(vp, 400, 4);
    expect(spanOf(vp)).toBe(MAX_SPAN_NS);
    expect(spanOf(viewport(T0, T0, 100))).toBe(MIN_SPAN_NS);
  });

  it('pans by pixels: dragging right shows earlier time', () => {
    const vp = viewport(T0, T0 + 1000n * 1_000_000n, 1000); // 1 ms per px
    const p = panBy(vp, 100);
    expect(p.startNs).toBe(T0 - 100n * 1_000_000n);
    expect(spanOf(p)).toBe(spanOf(vp));
    expect(panBy(p, -100).startNs).toBe(T0);
  });

  it('brushes a window between two x positions and ignores a click-sized brush', () => {
    const vp = viewport(T0, T0 + 100n * S, 1000);
    const b = brushTo(vp, 600, 100)!;
    expect(b.startNs).toBe(T0 + 10n * S);
    expect(b.endNs).toBe(T0 + 60n * S);
    expect(brushTo(vp, 100, 102)).toBeUndefined();
  });

  it('fits a range with a margin, resizes keeping ns per px, centres on an instant', () => {
    const f = fit(T0, T0 + 100n * S, 1000, 0.02);
    expect(f.startNs).toBe(T0 - 2n * S);
    expect(f.endNs).toBe(T0 + 102n * S);
    const r = resize(viewport(T0, T0 + 10n * S, 1000), 500);
    expect(spanOf(r)).toBe(5n * S);
    expect(nsPerPx(r)).toBe(10_000_000n);
    const c = centreOn(T0, 5n * S, 800);
    expect(c.startNs).toBe(T0 - 2_500_000_000n);
    // A single instant (start == end) still gets a sensible window.
    expect(spanOf(fit(T0, T0, 1000))).toBeGreaterThan(0n);
  });
});

describe('ticks and time zones', () => {
  it('chooses steps that keep labels apart', () => {
    expect(tickStep(viewport(T0, T0 + 10n * S, 1000), 90)).toBe(1n * S);
    expect(tickStep(viewport(T0, T0 + 5n * S, 1000), 90)).toBe(500_000_000n);
    expect(tickStep(viewport(T0, T0 + 1000n, 1000), 90)).toBe(100n);
    expect(tickStep(viewport(T0, T0 + 86_400n * S, 1000), 90)).toBe(3n * 3600n * S);
  });

  it('aligns ticks to whole steps and labels them with the digits that matter', () => {
    const vp = viewport(T0, T0 + 10n * S, 1000);
    const tk = ticks(vp, 'UTC');
    expect(tk.length).toBe(10);
    expect(tk[0]!.ns).toBe(1_714_564_801n * S);
    expect(tk[0]!.label).toBe('12:00:01');
    const fine = ticks(viewport(T0, T0 + 50_000n, 1000), 'UTC');
    expect(fine[0]!.label).toBe('00:00.123460');
    expect(digitsFor(1_000_000n)).toBe(3);
    expect(digitsFor(20_000n)).toBe(5);
    expect(digitsFor(S)).toBe(0);
    expect(tickLabel(T0, 86_400n * S, 'UTC')).toBe('2024-05-01');
  });

  it('formats in UTC by default and in a chosen zone, keeping nanoseconds', () => {
    expect(formatNs(T0)).toBe('2024-05-01 12:00:00.123456 UTC');
    expect(formatNs(T0, 'UTC', 9)).toBe('2024-05-01 12:00:00.123456789 UTC');
    expect(formatNs(T0, 'Asia/Tokyo', 3)).toBe('2024-05-01 21:00:00.123 GMT+9');
    expect(timeParts(T0, 'America/New_York').time).toBe('08:00:00');
    expect(zoneOffsetNs(T0, 'Asia/Kolkata')).toBe(19_800n * S);
    expect(zoneOffsetNs(T0, 'UTC')).toBe(0n);
    expect(isValidZone('Europe/Paris')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
    // Before the epoch, the fraction is still counted forward from the whole second.
    expect(formatNs(-1n, 'UTC', 9)).toBe('1969-12-31 23:59:59.999999999 UTC');
  });

  it('aligns hour ticks to the chosen zone', () => {
    const day = viewport(T0, T0 + 86_400n * S, 1000);
    const kolkata = ticks(day, 'Asia/Kolkata');
    // Kolkata is UTC+5:30: a 3 h tick lands on a local whole hour, i.e. at :30 UTC.
    expect((kolkata[0]!.ns / S) % 3600n).toBe(1800n);
    expect(kolkata[0]!.label.endsWith(':00')).toBe(true);
  });
});

describe('bucket loading and hit-testing', () => {
  const raw = [
    { lane: 'dmesg', hostId: 1, startNs: (T0 + 2n * S).toString(), endNs: (T0 + 2n * S + 1000n).toString(), count: 1, eventId: 11, text: 'lockd: server not responding', maxLevel: 'warn' },
    { lane: 'dmesg', hostId: 1, startNs: T0.toString(), endNs: (T0 + S).toString(), count: 40, maxLevel: 'err' },
    { lane: 'rpc', hostId: 2, startNs: (T0 + 5n * S).toString(), endNs: (T0 + 5n * S).toString(), count: 1, eventId: 12, text: 'LOCK NLM4_DENIED' },
  ];

  it('parses buckets once into bigints grouped by lane, sorted by start', () => {
    const lanes = byLane(toTBuckets(raw));
    const d = lanes.get(laneKey(1, 'dmesg'))!;
    expect(d.map((b) => b.startNs)).toEqual([T0, T0 + 2n * S]);
    expect(lanes.get('2|rpc')![0]!.eventId).toBe(12);
    expect(firstEndingAfter(d, T0 + S + 1n)).toBe(1);
    expect(firstEndingAfter(d, T0)).toBe(0);
    expect(firstEndingAfter(d, T0 + 10n * S)).toBe(2);
  });

  it('asks for three screens at two px per bucket, never more than the API allows', () => {
    const vp = viewport(T0, T0 + 10n * S, 1000);
    const req = planFetch(vp, true);
    expect(req.startNs).toBe(T0 - 10n * S);
    expect(req.endNs).toBe(T0 + 20n * S);
    expect(req.buckets).toBe(1500);
    expect(planFetch(viewport(T0, T0 + S, 5000), true).buckets).toBe(4000);
  });

  it('reuses a loaded slice while panning inside it, reloads on zoom or clock change', () => {
    const vp = viewport(T0, T0 + 10n * S, 1000);
    const have = planFetch(vp, true);
    expect(sliceServes(have, vp, true)).toBe(true);
    expect(sliceServes(have, panBy(vp, 900), true)).toBe(true);
    expect(sliceServes(have, panBy(vp, 1100), true)).toBe(false);
    expect(sliceServes(have, zoomAt(vp, 500, 0.3), true)).toBe(false);
    expect(sliceServes(have, zoomAt(vp, 500, 1.5), true)).toBe(true);
    expect(sliceServes(have, vp, false)).toBe(false);
    expect(sliceServes(undefined, vp, true)).toBe(false);
  });

  it('lays out lanes by host order and finds the bucket under the pointer', () => {
    const layout = layoutLanes(
      [
        { key: '2|rpc', hostId: 2, hostName: 'filer', lane: 'rpc', count: 1 },
        { key: '1|dmesg', hostId: 1, hostName: 'client', lane: 'dmesg', count: 41 },
      ],
      [1, 2],
    );
    expect(layout.rows.map((r) => r.key)).toEqual(['1|dmesg', '2|rpc']);
    expect(layout.rows[0]!.y).toBe(AXIS_H + ANNOT_H);
    expect(rowAt(layout, AXIS_H + ANNOT_H + ROW_H + 1)?.key).toBe('2|rpc');
    expect(rowAt(layout, 2)).toBeUndefined();
    const lanes = byLane(toTBuckets(raw));
    const vp = viewport(T0, T0 + 10n * S, 1000); // 10 ms per px
    const y1 = layout.rows[0]!.y + 5;
    expect(hitBucket(vp, layout, lanes, 200, y1)?.eventId).toBe(11);
    expect(hitBucket(vp, layout, lanes, 202, y1)?.eventId).toBe(11); // single events are 2 px wide + slack
    expect(hitBucket(vp, layout, lanes, 50, y1)?.count).toBe(40);
    expect(hitBucket(vp, layout, lanes, 150, y1)).toBeUndefined();
    expect(hitBucket(vp, layout, lanes, 500, layout.rows[1]!.y + 5)?.eventId).toBe(12);
    expect(bucketExtent(vp, lanes.get('2|rpc')![0]!)).toEqual({ x0: 500, x1: 502 });
  });

  it('colours by the worst level', () => {
    expect(severityClass('err')).toBe('error');
    expect(severityClass('crit')).toBe('error');
    expect(severityClass('warn')).toBe('warn');
    expect(severityClass('info')).toBe('normal');
    expect(severityClass(undefined)).toBe('normal');
    expect(severityClass('bogus')).toBe('normal');
  });
});

describe('safe Markdown', () => {
  it('parses paragraphs, lists, headings, code and emphasis', () => {
    const b = parseMarkdown('# Why\n\nThe **lock** is held by `lockd`.\nSecond line.\n\n- one\n- two *em*\n\n1. first\n2. second\n\n```\nrpcinfo -p\n```');
    expect(b.map((x) => x.t)).toEqual(['h', 'p', 'ul', 'ol', 'pre']);
    const p = b[1]!;
    expect(p.t === 'p' && p.children.map((c) => c.t)).toEqual(['text', 'strong', 'text', 'code', 'text']);
    expect(p.t === 'p' && inlineText(p.children)).toBe('The lock is held by lockd. Second line.');
    expect(b[2]!.t === 'ul' && b[2].items.length).toBe(2);
    expect(b[4]!.t === 'pre' && b[4].text).toBe('rpcinfo -p');
  });

  it('keeps markup as text: there is no HTML node type at all', () => {
    const b = parseMarkdown('<script>window.__pwned=1</script> <img src=x onerror="alert(1)">');
    expect(b).toHaveLength(1);
    expect(b[0]!.t === 'p' && inlineText(b[0].children)).toBe('<script>window.__pwned=1</script> <img src=x onerror="alert(1)">');
  });

  it('allows only http(s) links and shows anything else as its source text', () => {
    expect(parseInline('[rfc](https://www.rfc-editor.org/rfc/rfc1813)')).toEqual([{ t: 'link', text: 'rfc', href: 'https://www.rfc-editor.org/rfc/rfc1813' }]);
    const bad = parseInline('[click](javascript:window.__pwned=1)');
    expect(bad).toEqual([{ t: 'text', text: '[click](javascript:window.__pwned=1)' }]);
    expect(safeHref('JaVaScRiPt:alert(1)')).toBeUndefined();
    expect(safeHref('data:text/html,<script>')).toBeUndefined();
    expect(safeHref('/relative')).toBeUndefined();
    expect(safeHref(' http://x.example/a ')).toBe('http://x.example/a');
  });

  it('keeps underscores inside words literal (snake_case, __dunder)', () => {
    expect(inlineText(parseInline('window.__pwned=1 and nfs4_wait_clnt_recover'))).toBe('window.__pwned=1 and nfs4_wait_clnt_recover');
    expect(parseInline('nfs4_wait_clnt_recover').map((n) => n.t)).toEqual(['text']);
    expect(parseInline('an _emphasised_ word').map((n) => n.t)).toEqual(['text', 'em', 'text']);
    expect(parseInline('a *b* c').map((n) => n.t)).toEqual(['text', 'em', 'text']);
  });

  it('handles escapes, unclosed markers and empty input without losing text', () => {
    expect(inlineText(parseInline('a \\*b\\* `unclosed **bold'))).toBe('a *b* `unclosed **bold');
    expect(parseMarkdown('')).toEqual([]);
    expect(parseMarkdown('\n\n  \n')).toEqual([]);
  });
});

describe('hostile text and small helpers', () => {
  it('makes control characters, ANSI escapes and bidi overrides visible', () => {
    expect(visible('\u001b[31mred\u001b[0m')).toBe('\u241b[31mred\u241b[0m');
    expect(visible('a\rb\u0007')).toBe('a\u240db\u2407');
    expect(visible('x\u202ey')).toBe('x<U+202E>y');
    expect(visible('tab\tok')).toBe('tab\tok');
    expect(visibleLines('l1\n\u001bl2')).toBe('l1\n\u241bl2');
    expect(clip('abcdef', 4)).toBe('abc…');
  });

  it('converts typed milliseconds and instants exactly', () => {
    expect(msTextToNs('-12.5')).toBe('-12500000');
    expect(msTextToNs('3')).toBe('3000000');
    expect(msTextToNs('1.0000001')).toBeUndefined();
    expect(msTextToNs('abc')).toBeUndefined();
    expect(nsToMsText('-12500000')).toBe('-12.5');
    expect(nsToMsText('0')).toBe('0');
    expect(parseUserInstant('2024-05-01T12:00:00.123456789Z')).toBe(T0);
    expect(parseUserInstant(T0.toString())).toBe(T0);
    expect(parseUserInstant('yesterday')).toBeUndefined();
  });

  it('routes by hash', () => {
    expect(parseRoute('#/case/12/artifacts')).toEqual({ view: 'case', caseId: 12, tab: 'artifacts' });
    expect(parseRoute('#/case/3/bogus')).toEqual({ view: 'case', caseId: 3, tab: 'timeline' });
    expect(parseRoute('')).toEqual({ view: 'cases' });
    expect(routeHash({ view: 'case', caseId: 4, tab: 'search' })).toBe('#/case/4/search');
  });

  it('reads finding evidence in its usual shapes', () => {
    expect(evidenceRef(5)).toEqual({ eventId: 5, label: 'event 5' });
    expect(evidenceRef({ eventId: 7, text: 'flock(11, LOCK_EX' })).toMatchObject({ eventId: 7, label: 'flock(11, LOCK_EX' });
    expect(evidenceRef({ artifactId: 2, line: 40 })).toMatchObject({ artifactId: 2, line: 40, label: 'artifact 2:40' });
    expect(evidenceRef(null)).toBeUndefined();
  });
});

describe('artifact viewer paging', () => {
  it('numbers a text page contiguously from its first line', () => {
    const ix = new PageIndex({ fromLine: 101, lines: ['a', 'b', 'c'] }, false);
    expect(ix.numberAt(1)).toBe(101);
    expect(ix.rowOf(103)).toBe(3);
    expect(ix.rowOf(104)).toBeUndefined();
    expect(ix.rowOf(100)).toBeUndefined();
    expect(ix.textAt(2)).toBe('b');
    expect([ix.first, ix.last]).toEqual([101, 103]);
  });

  it('dumps packet bytes like xxd, printable ASCII only', () => {
    const d = hexdump('00 01 41 42 3c 73 63 72 69 70 74 3e 7f 80 ff 20 43');
    expect(d.split('\n')).toEqual(['00000000: 0001 4142 3c73 6372 6970 743e 7f80 ff20  ..AB<script>... ', '00000010: 43                                       C']);
    expect(hexdump('00'.repeat(40), 16).split('\n').pop()).toBe('… 24 more bytes');
  });

  it('numbers a capture page by frame, which is sparse', () => {
    const ix = new PageIndex({ fromLine: 1, lines: ['#4 NLM LOCK call', '#5 NLM LOCK NLM4_DENIED', '#19 NLM UNLOCK'] }, true);
    expect(ix.numberAt(3)).toBe(19);
    expect(ix.rowOf(5)).toBe(2);
    expect(ix.rowOf(10)).toBe(3); // first frame after 10
    expect(ix.rowOf(2)).toBeUndefined();
    expect(ix.rowOf(20)).toBeUndefined();
    // A page whose lines are not all frame-prefixed is read as plain text.
    const plain = new PageIndex({ fromLine: 1, lines: ['#4 x', 'not a frame'] }, true);
    expect(plain.rowOf(2)).toBe(2);
    expect(new PageIndex({ fromLine: 7, lines: [] }, true).rowOf(7)).toBeUndefined();
  });
});

describe('chart series', () => {
  it('aligns a latency scatter on one ascending x axis, top ops kept, the rest folded', () => {
    const p = (t: bigint, ms: number, op: string) => ({ tNs: (T0 + t).toString(), latencyMs: ms, op });
    const a = latencyScatter([p(2n * S, 5, 'LOCK'), p(0n, 1, 'GETATTR'), p(S, 2, 'GETATTR'), p(3n * S, 9, 'READ')], 2);
    expect(a.series).toEqual(['GETATTR', 'LOCK', 'other']);
    expect(a.data[0].map((x) => x - 1_714_564_800)).toEqual([0.123456, 1.123456, 2.123456, 3.123456].map((x) => expect.closeTo(x, 5)) as unknown as number[]);
    expect(a.data[1]).toEqual([1, 2, null, null]);
    expect(a.data[2]).toEqual([null, null, 5, null]);
    expect(a.data[3]).toEqual([null, null, null, 9]);
  });

  it('turns bucket counts into operations per second', () => {
    const r = rateLines({ startNs: T0.toString(), widthNs: (S / 2n).toString(), ops: { GETATTR: [1, 4], LOCK: [0, 1] } });
    expect(r.series).toEqual(['GETATTR', 'LOCK']);
    expect(r.data[1]).toEqual([2, 8]);
    expect(r.data[2]).toEqual([0, 2]);
    expect(r.data[0][1]! - r.data[0][0]!).toBeCloseTo(0.5, 6);
  });
});

describe('transports', () => {
  it('takes the token from the address bar into session storage and removes it from the URL', async () => {
    const { takeToken } = await import('../../renderer/api/browser');
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) } as unknown as Storage;
    const replaced: string[] = [];
    const hist = { state: null, replaceState: (_s: unknown, _t: string, url: string) => void replaced.push(url) } as unknown as History;
    const loc = { href: 'http://127.0.0.1:4000/?token=s3cr3t&x=1#/case/2/timeline' } as Location;
    expect(takeToken(loc, hist, storage)).toBe('s3cr3t');
    expect(store.get('casefile.token')).toBe('s3cr3t');
    expect(replaced).toEqual(['/?x=1#/case/2/timeline']);
    // A reload (no token in the URL) finds it in this tab's storage.
    expect(takeToken({ href: 'http://127.0.0.1:4000/#/' } as Location, hist, storage)).toBe('s3cr3t');
    expect(takeToken({ href: 'http://127.0.0.1:4000/' } as Location, hist, { getItem: () => null } as unknown as Storage)).toBeUndefined();
  });

  it('checks every answer against the contract and unwraps Electron IPC errors', async () => {
    const { electronClient } = await import('../../renderer/api/electron');
    const bridge = {
      api: {
        'cases.list': async () => [{ id: 1, name: 'a', title: '', createdNs: '1', readOnly: false, hostCount: 0, artifactCount: 0, eventCount: 0, findingCount: 0 }],
        'cases.get': async () => ({ case: { id: 'not-a-number' } }),
        'cases.create': async () => {
          throw new Error("Error invoking remote method 'cf:cases.create': Error: invalid case name");
        },
      },
      on: () => () => undefined,
    };
    const c = electronClient(bridge);
    expect((await c.call('cases.list', {}))[0]!.name).toBe('a');
    await expect(c.call('cases.get', { caseId: 1 })).rejects.toThrow(/does not match the contract/);
    await expect(c.call('cases.create', { name: 'x' })).rejects.toThrow(/^invalid case name$/);
    await expect(c.call('hosts.listConfig', {})).rejects.toThrow(/no method hosts.listConfig/);
  });
});
