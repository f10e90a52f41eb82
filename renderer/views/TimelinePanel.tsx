import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useApi } from '../api/context';
import { errorText } from '../api/errors';
import { TimelineController, type DetailRequest } from '../timeline/controller';
import { laneKey, type TBucket } from '../timeline/data';
import type { Palette, TimelineAnnotation } from '../timeline/draw';
import { layoutLanes, type LaneInfo } from '../timeline/layout';
import { formatNs, isValidZone, type Zone } from '../timeline/timefmt';
import { formatDuration } from '../../shared/model/time';
import { clip, visible } from '../util/text';
import { parseUserInstant, showNs } from '../util/time';
import { useLoad } from '../util/hooks';
import { useCase } from './caseContext';
import type { Viewport } from '../timeline/coords';
import { durationSpans, eventTime, laneKind, pairSpans, stepSpans, STEPS_LANE, type TSpan } from '../timeline/spans';
import { EvidenceChainPanel } from './EvidenceChainPanel';

const ZONES: readonly Zone[] = ['UTC', 'local', 'Europe/London', 'Europe/Paris', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo'];

function readPalette(el: Element): Palette {
  const cs = getComputedStyle(el);
  const v = (n: string, d: string): string => cs.getPropertyValue(n).trim() || d;
  return {
    bg: v('--tl-bg', '#fff'),
    fg: v('--fg', '#222'),
    muted: v('--muted', '#777'),
    grid: v('--tl-grid', '#e4e4e4'),
    laneAlt: v('--tl-lane-alt', '#f6f7f9'),
    bar: v('--tl-bar', '#3b6fd1'),
    warn: v('--warn', '#c77800'),
    error: v('--error', '#c62828'),
    selected: v('--tl-selected', '#7b1fa2'),
    related: v('--tl-related', '#00a383'),
    annotation: v('--tl-annotation', '#b8860b'),
    brush: v('--tl-brush', '#3b6fd1'),
    span: v('--tl-span', '#6a4fb3'),
    step: v('--tl-step', '#2e7d32'),
  };
}

declare global {
  interface Window {
    __casefileTimeline?: TimelineController;
  }
}

export function TimelinePanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const { caseId, detail, corrected, zone } = ctx;
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const ctlRef = useRef<TimelineController | undefined>(undefined);
  const paletteRef = useRef<Palette | undefined>(undefined);
  const [vp, setVp] = useState<Viewport | undefined>(undefined);
  const [hover, setHover] = useState<{ bucket: TBucket; x: number; y: number } | undefined>(undefined);
  const [related, setRelated] = useState<{ eventId: number; eventIds: readonly number[]; keys: readonly string[] } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [fromText, setFromText] = useState('');
  const [toText, setToText] = useState('');
  const [customZone, setCustomZone] = useState('');

  const range = useLoad(() => api.call('timeline.range', { caseId, corrected }), [caseId, corrected, detail]);

  // Latest callbacks for the controller (it is created once per canvas).
  const handlers = useRef({
    select: (_b: TBucket) => undefined as void,
    open: (_b: TBucket) => undefined as void,
    spans: async (_r: DetailRequest): Promise<readonly TSpan[]> => [],
  });
  // Events of the window for the lanes the controller picked. The window is widened by the host's clock
  // correction so the answer is complete whether events.list filters on raw or corrected time; the exact
  // cut is made here on the time the timeline shows.
  handlers.current.spans = async (req) => {
    const out: TSpan[] = [];
    await Promise.all(
      req.laneKeys.map(async (key) => {
        const sep = key.indexOf('|');
        const hostId = Number(key.slice(0, sep));
        const kind = laneKind(key.slice(sep + 1));
        const h = ctx.host(hostId);
        const corr = h ? BigInt(h.clockOffsetNs ?? '0') + BigInt(h.clockAdjustNs) : 0n;
        const slack = corr < 0n ? -corr : corr;
        const evs = await api.call('events.list', { caseId, hostIds: [hostId], kinds: [kind], fromNs: (req.fromNs - slack).toString(), toNs: (req.toNs + slack).toString(), limit: 5000 });
        const inWindow = evs.filter((e) => {
          const t = eventTime(e, req.corrected);
          if (t === undefined) return false;
          const end = t + (e.durationNs !== undefined ? BigInt(e.durationNs) : 0n);
          return end >= req.fromNs && t < req.toNs;
        });
        out.push(...durationSpans(key, inWindow, req.corrected));
        if (kind === 'rpc') out.push(...pairSpans(key, inWindow, req.corrected));
      }),
    );
    return out;
  };
  handlers.current.select = (b) => {
    if (b.eventId === undefined) return;
    const id = b.eventId;
    void (async () => {
      try {
        const [ev] = await api.call('events.list', { caseId, ids: [id], limit: 1 });
        ctx.selectEvent(ev);
        const rel = await api.call('timeline.related', { caseId, eventId: id });
        setRelated({ eventId: id, ...rel });
      } catch (e) {
        setError(errorText(e));
      }
    })();
  };
  handlers.current.open = (b) => {
    if (b.eventId !== undefined) void ctx.openEvent(b.eventId);
  };

  useEffect(() => {
    const canvas = canvasRef.current!;
    const ctl = new TimelineController(canvas, {
      fetchBuckets: (req) =>
        api.call('timeline.buckets', { caseId, startNs: req.startNs.toString(), endNs: req.endNs.toString(), buckets: req.buckets, corrected: req.corrected }),
      fetchSpans: (req) => handlers.current.spans(req),
      onSelect: (b) => handlers.current.select(b),
      onOpen: (b) => handlers.current.open(b),
      onViewport: (v) => setVp(v),
      onHover: (h) => setHover(h),
      onError: (m) => setError(m),
      palette: () => (paletteRef.current ??= readPalette(canvas)),
    });
    ctlRef.current = ctl;
    window.__casefileTimeline = ctl;
    return () => {
      ctl.dispose();
      if (window.__casefileTimeline === ctl) window.__casefileTimeline = undefined;
      ctlRef.current = undefined;
    };
  }, [api, caseId]);

  // Theme change: re-read the colours.
  useEffect(() => {
    paletteRef.current = undefined;
    ctlRef.current?.requestDraw();
  }, [ctx.theme]);

  const lanes: LaneInfo[] = useMemo(
    () =>
      (range.data?.lanes ?? []).map((l) => {
        const hostName = l.hostId === undefined ? 'case' : ctx.hostName(l.hostId);
        // The backend may prefix the lane with the host ("filer/rpc"); the label shows the host once.
        const lane = l.lane.startsWith(`${hostName}/`) ? l.lane.slice(hostName.length + 1) : l.lane;
        return { key: laneKey(l.hostId, l.lane), hostId: l.hostId, hostName, lane, count: l.count } as LaneInfo;
      }).concat(
        // One "steps" lane per host that ran steps: each step run is a span there.
        detail.hosts
          .map((h) => ({ h, n: detail.steps.filter((st) => st.hostId === h.id && st.startedNs !== undefined).length }))
          .filter((x) => x.n > 0)
          .map(({ h, n }) => ({ key: `${h.id}|${STEPS_LANE}`, hostId: h.id, hostName: h.name, lane: STEPS_LANE, count: n })),
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [range.data, detail.hosts, detail.steps],
  );

  useEffect(() => {
    const corr = (id: number): bigint => {
      const h = ctx.host(id);
      return h ? BigInt(h.clockOffsetNs ?? '0') + BigInt(h.clockAdjustNs) : 0n;
    };
    ctlRef.current?.setStaticSpans(stepSpans(detail.steps, corr, corrected, BigInt(Date.now()) * 1_000_000n));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [detail.steps, detail.hosts, corrected]);
  const layout = useMemo(() => layoutLanes(lanes, detail.hosts.map((h) => h.id)), [lanes, detail.hosts]);

  useEffect(() => {
    const ctl = ctlRef.current;
    if (!ctl) return;
    ctl.setLayout(layout);
    canvasRef.current!.dataset.lanes = JSON.stringify(layout.rows.map((r) => ({ key: r.key, lane: r.lane, hostId: r.hostId, y: r.y, h: r.h })));
    const w = wrapRef.current!.clientWidth;
    ctl.setSize(w, Math.max(layout.height, 120));
  }, [layout]);

  useEffect(() => {
    const ctl = ctlRef.current;
    if (!ctl || !range.data) return;
    const s = range.data.startNs;
    const e = range.data.endNs;
    ctl.setRange(s === undefined ? undefined : BigInt(s), e === undefined ? undefined : BigInt(e));
    ctl.invalidate();
  }, [range.data]);

  useEffect(() => ctlRef.current?.setCorrected(corrected), [corrected]);
  useEffect(() => ctlRef.current?.setZone(zone), [zone]);
  useEffect(() => {
    const sel = ctx.selectedEvent?.id;
    ctlRef.current?.setSelection(sel, new Set(related?.eventIds ?? []));
  }, [ctx.selectedEvent, related]);

  // Resize with the window.
  useEffect(() => {
    const el = wrapRef.current!;
    const ro = new ResizeObserver(() => ctlRef.current?.setSize(el.clientWidth, Math.max(layout.height, 120)));
    ro.observe(el);
    return () => ro.disconnect();
  }, [layout.height]);

  // Annotations at their time: events' times are looked up once per annotation set.
  useEffect(() => {
    const anns = detail.annotations;
    const eventIds = anns.filter((a) => a.target === 'event' && a.eventId !== undefined).map((a) => a.eventId!);
    let cancelled = false;
    void (async () => {
      const times = new Map<number, string | undefined>();
      if (eventIds.length) {
        try {
          const evs = await api.call('events.list', { caseId, ids: eventIds.slice(0, 5000), limit: 5000 });
          for (const e of evs) times.set(e.id, corrected ? (e.correctedNs ?? e.tsNs) : e.tsNs);
        } catch {
          /* annotations still draw for ranges */
        }
      }
      if (cancelled) return;
      const list: TimelineAnnotation[] = [];
      for (const a of anns) {
        const label = a.body.split('\n')[0] ?? '';
        if (a.target === 'range' && a.startNs !== undefined) list.push({ id: a.id, startNs: BigInt(a.startNs), endNs: a.endNs !== undefined ? BigInt(a.endNs) : undefined, label, starred: a.starred, marker: a.marker });
        else if (a.target === 'event' && a.eventId !== undefined) {
          const t = times.get(a.eventId);
          if (t !== undefined) list.push({ id: a.id, startNs: BigInt(t), label, starred: a.starred, marker: a.marker });
        }
      }
      ctlRef.current?.setAnnotations(list);
    })();
    return () => {
      cancelled = true;
    };
  }, [api, caseId, detail.annotations, corrected]);

  useEffect(() => {
    if (!vp) return;
    setFromText(formatNs(vp.startNs, 'UTC', 9).replace(' UTC', 'Z').replace(' ', 'T'));
    setToText(formatNs(vp.endNs, 'UTC', 9).replace(' UTC', 'Z').replace(' ', 'T'));
  }, [vp]);

  const onCanvasKey = (e: React.KeyboardEvent): void => {
    const sel = ctx.selectedEvent;
    if (e.key === 'r') ctx.setCorrected(!corrected);
    else if (e.key === 'a' && sel) ctx.annotate({ target: 'event', eventId: sel.id, label: sel.text });
    else if (e.key === 'Enter' && sel) ctx.openArtifact(sel.artifactId, sel.line);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  const goWindow = (): void => {
    const a = parseUserInstant(fromText);
    const b = parseUserInstant(toText);
    if (a === undefined || b === undefined || b <= a) {
      setError('Window: give two instants, e.g. 2024-05-01T12:00:00Z and 2024-05-01T12:00:05Z, the second after the first.');
      return;
    }
    setError(undefined);
    ctlRef.current?.setWindow(a, b);
  };

  const sel = ctx.selectedEvent;
  const empty = range.data && range.data.lanes.length === 0;

  return (
    <div className="timeline-panel">
      <div className="toolbar row wrap">
        <label title="Raw: each host's own clock. Corrected: shifted by the measured offset and your adjustment (r).">
          <input type="checkbox" checked={corrected} onChange={(e) => ctx.setCorrected(e.target.checked)} data-testid="tl-corrected" /> corrected time
        </label>
        <label>
          Time zone{' '}
          <select value={ZONES.includes(zone) ? zone : 'custom'} onChange={(e) => e.target.value !== 'custom' && ctx.setZone(e.target.value as Zone)} data-testid="tl-zone">
            {ZONES.map((z) => (
              <option key={z} value={z}>
                {z === 'local' ? 'this computer' : z}
              </option>
            ))}
            {!ZONES.includes(zone) && <option value="custom">{zone}</option>}
          </select>
        </label>
        <input
          className="narrow"
          placeholder="other zone (IANA)"
          value={customZone}
          onChange={(e) => setCustomZone(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && isValidZone(customZone.trim())) ctx.setZone(customZone.trim() as Zone);
          }}
        />
        <span className="sep" />
        <button onClick={() => ctlRef.current?.zoom(0.5)} title="Zoom in (+)" data-testid="tl-zoom-in">
          +
        </button>
        <button onClick={() => ctlRef.current?.zoom(2)} title="Zoom out (-)" data-testid="tl-zoom-out">
          −
        </button>
        <button onClick={() => ctlRef.current?.fitAll()} title="Fit the case (0)" data-testid="tl-fit">
          Fit
        </button>
        <span className="sep" />
        <label>
          From <input className="mono wide" value={fromText} onChange={(e) => setFromText(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && goWindow()} data-testid="tl-from" />
        </label>
        <label>
          To <input className="mono wide" value={toText} onChange={(e) => setToText(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && goWindow()} data-testid="tl-to" />
        </label>
        <button onClick={goWindow} data-testid="tl-go">
          Go
        </button>
        {vp && <span className="muted small" data-testid="tl-span">window {formatDuration(vp.endNs - vp.startNs)}</span>}
        {vp && (
          <button onClick={() => ctx.annotate({ target: 'range', startNs: vp.startNs.toString(), endNs: vp.endNs.toString() })} title="Annotate the visible window">
            Annotate window
          </button>
        )}
      </div>
      {error && <p className="error">{error}</p>}
      {range.error && <p className="error">{range.error}</p>}
      {empty && <p className="muted">No events yet. Run a playbook on a host or import artifacts; they appear here per host and source.</p>}
      <div className="timeline-wrap" ref={wrapRef}>
        <canvas ref={canvasRef} className="timeline" tabIndex={0} aria-label="Timeline: arrows pan, + and - zoom, shift-drag selects a window, click selects an event" data-testid="timeline" onKeyDown={onCanvasKey} />
        {hover && (
          <div className="tooltip" style={{ left: Math.min(hover.x + 12, (wrapRef.current?.clientWidth ?? 600) - 320), top: hover.y + 14 }}>
            <div className="mono small">{formatNs(hover.bucket.startNs, zone, 6)}</div>
            {hover.bucket.count === 1 && hover.bucket.text !== undefined ? <div>{clip(visible(hover.bucket.text), 300)}</div> : <div>{hover.bucket.count} events (click to zoom in)</div>}
            {hover.bucket.maxLevel && <div className="muted small">max level {visible(hover.bucket.maxLevel)}</div>}
          </div>
        )}
      </div>
      {sel && (
        <div className="selection-row">
          <section className="card selected-event" data-testid="selected-event">
            <div className="row wrap">
              <strong className="grow">
                {visible(sel.kind)} on {visible(ctx.hostName(sel.hostId))}
                {sel.level && <span className={`badge level-${sel.level}`}>{visible(sel.level)}</span>}
              </strong>
              <button onClick={() => ctx.openArtifact(sel.artifactId, sel.line)} data-testid="open-in-viewer">
                Open in viewer (Enter)
              </button>
              <button onClick={() => ctx.annotate({ target: 'event', eventId: sel.id, label: sel.text })} data-testid="annotate-event">
                Annotate (a)
              </button>
            </div>
            <div className="mono small">
              {showNs(corrected ? (sel.correctedNs ?? sel.tsNs) : sel.tsNs, zone, 9)} {sel.tsRaw !== undefined && <span className="muted">raw “{visible(sel.tsRaw)}” ({visible(sel.clock)})</span>}
            </div>
            <pre className="event-text">{visible(sel.text)}</pre>
            {related && related.eventId === sel.id && related.eventIds.length > 0 && (
              <p className="muted small" data-testid="related">
                {related.eventIds.length} related events light up (shared {related.keys.map((k) => visible(k)).join(', ')}).
              </p>
            )}
          </section>
          <EvidenceChainPanel key={sel.id} event={sel} related={related?.eventId === sel.id ? related : undefined} />
        </div>
      )}
    </div>
  );
}
