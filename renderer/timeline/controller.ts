import type { Bucket } from '../../shared/api/contract';
import { brushTo, fit, nsToPx, panBy, pxToNs, resize, spanOf, viewport, zoomAt, type Viewport } from './coords';
import { byLane, planFetch, sliceServes, toTBuckets, type FetchRequest, type Slice, type TBucket } from './data';
import { drawScene, type Palette, type TimelineAnnotation } from './draw';
import { hitBucket, rowAt, type Layout } from './layout';
import { hitSpan, pickDetailLanes, spansByLane, type TSpan } from './spans';
import type { Zone } from './timefmt';

export interface ControllerDeps {
  fetchBuckets(req: FetchRequest): Promise<readonly Bucket[]>;
  /** Events of a window as spans, for lanes few enough to fetch whole (see spans.ts). */
  fetchSpans?(req: DetailRequest): Promise<readonly TSpan[]>;
  onSelect(b: TBucket): void;
  onOpen(b: TBucket): void;
  onViewport(vp: Viewport): void;
  onHover(h: { readonly bucket: TBucket; readonly x: number; readonly y: number } | undefined): void;
  onError(message: string): void;
  palette(): Palette;
}

export interface DetailRequest {
  readonly laneKeys: readonly string[];
  readonly fromNs: bigint;
  readonly toNs: bigint;
  readonly corrected: boolean;
}

/** Timing the benchmark and tests read (window.__casefileTimeline). */
export interface TimelineStats {
  openedAt: number;
  firstDataPaint?: number;
  draws: number;
  drawMs: number[];
  fetches: number;
}

/**
 * The timeline's behaviour without React: owns the canvas, the viewport, the loaded slice and the input
 * handlers. React only creates it and feeds it lanes, settings and selection; frames are drawn on
 * requestAnimationFrame from data already in memory, and loading happens beside the drawing.
 */
export class TimelineController {
  private vp: Viewport | undefined;
  private layout: Layout | undefined;
  private lanes: Map<string, TBucket[]> = new Map();
  private slice: Slice | undefined;
  private pending: FetchRequest | undefined;
  private fetchSeq = 0;
  private fetchTimer: ReturnType<typeof setTimeout> | undefined;
  private frame = 0;
  private cssW = 0;
  private cssH = 0;
  private corrected = true;
  private zone: Zone = 'UTC';
  private selected: number | undefined;
  private related: ReadonlySet<number> = new Set();
  private annotations: readonly TimelineAnnotation[] = [];
  private drag: { x: number; vp: Viewport; brush: boolean; moved: boolean } | undefined;
  private brush: { x0: number; x1: number } | undefined;
  private cursorX: number | undefined;
  private fullRange: { start: bigint; end: bigint } | undefined;
  private disposers: (() => void)[] = [];
  /** Event spans of the last detail fetch, by lane, and what that fetch covered. */
  private eventSpans: Map<string, TSpan[]> = new Map();
  private staticSpans: Map<string, TSpan[]> = new Map();
  private spanLanes: Map<string, TSpan[]> = new Map();
  private detail: (DetailRequest & { readonly seq: number }) | undefined;
  private detailSeq = 0;
  private detailPending = false;
  readonly stats: TimelineStats = { openedAt: performance.now(), draws: 0, drawMs: [], fetches: 0 };

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly deps: ControllerDeps,
  ) {
    const on = <K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions): void => {
      canvas.addEventListener(type, fn as EventListener, opts);
      this.disposers.push(() => canvas.removeEventListener(type, fn as EventListener, opts));
    };
    on('wheel', (e) => this.onWheel(e), { passive: false });
    on('pointerdown', (e) => this.onDown(e));
    on('pointermove', (e) => this.onMove(e));
    on('pointerup', (e) => this.onUp(e));
    on('pointerleave', () => {
      this.cursorX = undefined;
      this.deps.onHover(undefined);
      this.requestDraw();
    });
    on('dblclick', (e) => {
      const b = this.hit(e);
      if (b) this.deps.onOpen(b);
    });
    on('keydown', (e) => this.onKey(e));
  }

  dispose(): void {
    for (const d of this.disposers) d();
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.fetchTimer) clearTimeout(this.fetchTimer);
    this.fetchSeq++;
  }

  get plotLeft(): number {
    return this.layout?.labelW ?? 0;
  }

  viewport(): Viewport | undefined {
    return this.vp;
  }

  setSize(cssW: number, cssH: number): void {
    this.cssW = cssW;
    this.cssH = cssH;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(cssW * dpr);
    this.canvas.height = Math.round(cssH * dpr);
    this.canvas.style.width = `${cssW}px`;
    this.canvas.style.height = `${cssH}px`;
    const plotW = Math.max(1, cssW - this.plotLeft);
    if (this.vp) this.setViewport(resize(this.vp, plotW));
    else if (this.fullRange) this.fitAll();
    this.requestDraw();
  }

  setLayout(layout: Layout): void {
    this.layout = layout;
    this.requestDraw();
  }

  setRange(start: bigint | undefined, end: bigint | undefined): void {
    const first = this.fullRange === undefined;
    this.fullRange = start !== undefined && end !== undefined ? { start, end } : undefined;
    if (first && this.fullRange && this.cssW > 0) this.fitAll();
  }

  fitAll(): void {
    if (!this.fullRange) return;
    this.setViewport(fit(this.fullRange.start, this.fullRange.end, Math.max(1, this.cssW - this.plotLeft)));
  }

  setViewport(vp: Viewport): void {
    this.vp = vp;
    this.deps.onViewport(vp);
    this.scheduleFetch();
    this.publish();
    this.requestDraw();
  }

  /**
   * State for tests and assistive tooling on the canvas element: the window shown, where the plot starts, and
   * whether the data for this window is in (set synchronously, so a reader never sees a stale window as loaded).
   */
  private publish(): void {
    if (!this.vp) return;
    const d = this.canvas.dataset;
    d.startNs = this.vp.startNs.toString();
    d.endNs = this.vp.endNs.toString();
    d.plotLeft = String(this.plotLeft);
    d.loaded = sliceServes(this.slice, this.vp, this.corrected) && !this.pending && !this.fetchTimer ? 'yes' : 'no';
    d.corrected = String(this.corrected);
    d.detail = this.detailPending ? 'loading' : this.detail ? this.detail.laneKeys.join(',') : '';
    let n = 0;
    for (const l of this.spanLanes.values()) n += l.length;
    d.spans = String(n);
  }

  /** Spans that do not come from the visible window's events (step runs), by lane. */
  setStaticSpans(spans: readonly TSpan[]): void {
    this.staticSpans = spansByLane(spans);
    this.mergeSpans();
  }

  private mergeSpans(): void {
    const m = new Map<string, TSpan[]>();
    for (const src of [this.eventSpans, this.staticSpans]) for (const [k, v] of src) m.set(k, [...(m.get(k) ?? []), ...v]);
    for (const l of m.values()) l.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
    this.spanLanes = m;
    this.publish();
    this.requestDraw();
  }

  /**
   * After buckets arrive: fetch the events of the window (plus half a screen each side) as spans for the lanes
   * whose bucket counts say they are small enough; lanes already covered by the last fetch are not asked again.
   */
  private async fetchDetail(): Promise<void> {
    const vp = this.vp;
    if (!vp || !this.deps.fetchSpans) return;
    const half = spanOf(vp) / 2n;
    const fromNs = vp.startNs - half;
    const toNs = vp.endNs + half;
    const laneKeys = pickDetailLanes(this.lanes, fromNs, toNs);
    if (laneKeys.length === 0) return;
    const have = this.detail;
    if (have && have.corrected === this.corrected && have.fromNs <= vp.startNs && have.toNs >= vp.endNs && laneKeys.every((k) => have.laneKeys.includes(k))) return;
    const my = ++this.detailSeq;
    this.detailPending = true;
    this.publish();
    try {
      const spans = await this.deps.fetchSpans({ laneKeys, fromNs, toNs, corrected: this.corrected });
      if (my !== this.detailSeq) return;
      this.eventSpans = spansByLane(spans);
      this.detail = { laneKeys, fromNs, toNs, corrected: this.corrected, seq: my };
    } catch (e) {
      if (my === this.detailSeq) this.deps.onError(e instanceof Error ? e.message : String(e));
    } finally {
      if (my === this.detailSeq) {
        this.detailPending = false;
        this.mergeSpans();
      }
    }
  }

  setWindow(start: bigint, end: bigint): void {
    this.setViewport(viewport(start, end, Math.max(1, this.cssW - this.plotLeft)));
  }

  setCorrected(c: boolean): void {
    if (c === this.corrected) return;
    this.corrected = c;
    this.invalidate();
    this.publish();
  }

  setZone(z: Zone): void {
    this.zone = z;
    this.requestDraw();
  }

  setSelection(eventId: number | undefined, related: ReadonlySet<number>): void {
    this.selected = eventId;
    this.related = related;
    this.requestDraw();
  }

  setAnnotations(a: readonly TimelineAnnotation[]): void {
    this.annotations = a;
    this.requestDraw();
  }

  /** The case changed (new events): reload the visible slice, keep the view where it is. */
  invalidate(): void {
    this.slice = undefined;
    this.detail = undefined;
    this.detailSeq++;
    this.detailPending = false;
    this.scheduleFetch(0);
  }

  zoom(factor: number, anchorX?: number): void {
    if (!this.vp) return;
    this.setViewport(zoomAt(this.vp, anchorX ?? this.vp.widthPx / 2, factor));
  }

  pan(fraction: number): void {
    if (!this.vp) return;
    this.setViewport(panBy(this.vp, -fraction * this.vp.widthPx));
  }

  /** x (plot px) of an instant, for tests and the bench. */
  xOf(t: bigint): number | undefined {
    return this.vp ? nsToPx(this.vp, t) + this.plotLeft : undefined;
  }

  // ---- data --------------------------------------------------------------------------------------
  private scheduleFetch(delayMs = 40): void {
    if (this.fetchTimer) clearTimeout(this.fetchTimer);
    this.fetchTimer = setTimeout(() => {
      this.fetchTimer = undefined;
      void this.fetchIfNeeded();
      this.publish();
    }, delayMs);
  }

  private async fetchIfNeeded(): Promise<void> {
    const vp = this.vp;
    if (!vp) return;
    if (sliceServes(this.slice, vp, this.corrected)) {
      void this.fetchDetail(); // zoomed within the loaded resolution: spans may still need loading
      return;
    }
    if (this.pending && sliceServes(this.pending, vp, this.corrected)) return;
    const req = planFetch(vp, this.corrected);
    this.pending = req;
    const my = ++this.fetchSeq;
    this.stats.fetches++;
    this.requestDraw();
    try {
      const raw = await this.deps.fetchBuckets(req);
      if (my !== this.fetchSeq) return;
      this.lanes = byLane(toTBuckets(raw));
      this.slice = req;
      void this.fetchDetail();
    } catch (e) {
      if (my === this.fetchSeq) this.deps.onError(e instanceof Error ? e.message : String(e));
    } finally {
      if (my === this.fetchSeq) this.pending = undefined;
      this.publish();
      this.requestDraw();
    }
  }

  // ---- drawing -----------------------------------------------------------------------------------
  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx || !this.vp || !this.layout || this.cssW === 0) return;
    const t0 = performance.now();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawScene(
      ctx,
      {
        vp: this.vp,
        layout: this.layout,
        lanes: this.lanes,
        spans: this.spanLanes,
        selectedEventId: this.selected,
        related: this.related,
        annotations: this.annotations,
        zone: this.zone,
        brush: this.brush,
        cursorX: this.cursorX,
        palette: this.deps.palette(),
        loading: this.pending !== undefined,
      },
      this.cssW,
      this.cssH,
    );
    const t1 = performance.now();
    this.stats.draws++;
    this.stats.drawMs.push(t1 - t0);
    if (this.stats.drawMs.length > 2000) this.stats.drawMs.splice(0, 1000);
    if (this.stats.firstDataPaint === undefined && this.slice && this.lanes.size > 0) this.stats.firstDataPaint = t1;
    this.publish();
  }

  // ---- input -------------------------------------------------------------------------------------
  private plotX(e: MouseEvent): number {
    return e.clientX - this.canvas.getBoundingClientRect().left - this.plotLeft;
  }

  private plotY(e: MouseEvent): number {
    return e.clientY - this.canvas.getBoundingClientRect().top;
  }

  private hit(e: MouseEvent): TBucket | undefined {
    if (!this.vp || !this.layout) return undefined;
    const x = this.plotX(e);
    if (x < 0) return undefined;
    const b = hitBucket(this.vp, this.layout, this.lanes, x, this.plotY(e));
    if (b) return b;
    // A span: as a one-event bucket when it belongs to an event (click selects it), else its extent (click zooms).
    const row = rowAt(this.layout, this.plotY(e));
    const s = row ? hitSpan(this.vp, this.spanLanes.get(row.key), x) : undefined;
    return s ? { laneKey: s.laneKey, startNs: s.startNs, endNs: s.endNs, count: 1, maxLevel: s.level, eventId: s.eventId, text: s.label } : undefined;
  }

  private onWheel(e: WheelEvent): void {
    if (!this.vp) return;
    e.preventDefault();
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      this.setViewport(panBy(this.vp, -(e.shiftKey ? delta : e.deltaX)));
      return;
    }
    this.setViewport(zoomAt(this.vp, this.plotX(e), Math.exp(delta * 0.002)));
  }

  private onDown(e: PointerEvent): void {
    if (!this.vp || e.button !== 0) return;
    this.canvas.focus();
    try {
      this.canvas.setPointerCapture(e.pointerId); // keep the drag when the pointer leaves the canvas
    } catch {
      /* synthetic or already-released pointer: the drag still works inside the canvas */
    }
    const x = this.plotX(e);
    this.drag = { x, vp: this.vp, brush: e.shiftKey, moved: false };
    if (e.shiftKey) this.brush = { x0: x, x1: x };
  }

  private onMove(e: PointerEvent): void {
    const x = this.plotX(e);
    if (this.drag) {
      if (Math.abs(x - this.drag.x) >= 3) this.drag.moved = true;
      if (this.drag.brush) {
        this.brush = { x0: this.drag.x, x1: x };
        this.requestDraw();
      } else if (this.drag.moved) {
        this.setViewport(panBy(this.drag.vp, x - this.drag.x));
      }
      return;
    }
    this.cursorX = x >= 0 ? x : undefined;
    const b = this.hit(e);
    this.deps.onHover(b ? { bucket: b, x: e.offsetX, y: e.offsetY } : undefined);
    this.requestDraw();
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = undefined;
    if (!d || !this.vp) return;
    if (d.brush) {
      const next = this.brush ? brushTo(d.vp, this.brush.x0, this.brush.x1) : undefined;
      this.brush = undefined;
      if (next) this.setViewport(next);
      else this.requestDraw();
      return;
    }
    if (d.moved) return;
    const b = this.hit(e);
    if (!b) return;
    if (b.eventId !== undefined) this.deps.onSelect(b);
    else if (this.layout && rowAt(this.layout, this.plotY(e))) {
      // An aggregate: zoom to it so its events separate (click again to pick one).
      const span = b.endNs - b.startNs;
      this.setViewport(fit(b.startNs, b.endNs > b.startNs ? b.endNs : b.startNs + 1000n, this.vp.widthPx, span > 0n ? 0.25 : 0.5));
    }
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.vp || e.ctrlKey || e.metaKey || e.altKey) return;
    const step = e.shiftKey ? 1 : 0.1;
    switch (e.key) {
      case 'ArrowLeft':
        this.pan(-step);
        break;
      case 'ArrowRight':
        this.pan(step);
        break;
      case '+':
      case '=':
        this.zoom(0.5);
        break;
      case '-':
      case '_':
        this.zoom(2);
        break;
      case '0':
        this.fitAll();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  /** The instant under a plot x (for the toolbar's cursor readout). */
  timeAt(x: number): bigint | undefined {
    return this.vp ? pxToNs(this.vp, x) : undefined;
  }

  span(): bigint | undefined {
    return this.vp ? spanOf(this.vp) : undefined;
  }
}
