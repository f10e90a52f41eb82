import type { Viewport } from './coords';
import { nsToPx, pxToNs } from './coords';
import type { TBucket } from './data';
import { firstEndingAfter, severityClass } from './data';
import type { Layout } from './layout';
import { bucketExtent } from './layout';
import { ticks } from './ticks';
import { timeParts, type Zone } from './timefmt';
import { clip, visible } from '../util/text';
import { drawableSpans, type TSpan } from './spans';

/** Colours read from CSS variables once per theme change, so the canvas follows light/dark. */
export interface Palette {
  readonly bg: string;
  readonly fg: string;
  readonly muted: string;
  readonly grid: string;
  readonly laneAlt: string;
  readonly bar: string;
  readonly warn: string;
  readonly error: string;
  readonly selected: string;
  readonly related: string;
  readonly annotation: string;
  readonly brush: string;
  readonly span: string;
  readonly step: string;
}

export interface TimelineAnnotation {
  readonly id: number;
  readonly startNs: bigint;
  readonly endNs?: bigint | undefined;
  readonly label: string;
  readonly starred: boolean;
  readonly marker?: string | undefined;
}

export interface Scene {
  readonly vp: Viewport; // plot viewport (x = 0 at the plot's left edge)
  readonly layout: Layout;
  readonly lanes: ReadonlyMap<string, readonly TBucket[]>;
  readonly spans?: ReadonlyMap<string, readonly TSpan[]> | undefined;
  readonly selectedEventId?: number | undefined;
  readonly related: ReadonlySet<number>;
  readonly annotations: readonly TimelineAnnotation[];
  readonly zone: Zone;
  readonly brush?: { readonly x0: number; readonly x1: number } | undefined;
  readonly cursorX?: number | undefined;
  readonly palette: Palette;
  readonly loading: boolean;
}

/**
 * Draw one frame. Synchronous and allocation-light: everything it needs is already loaded and parsed, so a
 * pan or zoom frame costs only the visible buckets (binary search to the first, stop after the last).
 */
export function drawScene(ctx: CanvasRenderingContext2D, s: Scene, cssW: number, cssH: number): void {
  const { vp, layout, palette: p } = s;
  const L = layout.labelW;
  ctx.save();
  ctx.fillStyle = p.bg;
  ctx.fillRect(0, 0, cssW, cssH);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';

  // Lane backgrounds and labels.
  layout.rows.forEach((r, i) => {
    if (i % 2 === 1) {
      ctx.fillStyle = p.laneAlt;
      ctx.fillRect(0, r.y, cssW, r.h);
    }
    ctx.fillStyle = p.fg;
    ctx.fillText(clip(visible(`${r.hostName} · ${r.lane}`), 26), 6, r.y + r.h / 2);
  });
  ctx.fillStyle = p.muted;
  ctx.fillText('annotations', 6, layout.annotationsY + layout.annotationsH / 2);
  // The date and zone of the window's start, once, in the label column (ticks only show the changing part).
  const startParts = timeParts(vp.startNs, s.zone);
  ctx.fillStyle = p.fg;
  ctx.fillText(`${startParts.date} ${startParts.zone}`, 6, 12);

  // Axis and grid.
  ctx.save();
  ctx.beginPath();
  ctx.rect(L, 0, cssW - L, cssH);
  ctx.clip();
  ctx.translate(L, 0);
  const tk = ticks(vp, s.zone);
  ctx.strokeStyle = p.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const t of tk) {
    const x = Math.round(t.x) + 0.5;
    ctx.moveTo(x, layout.axisH - 6);
    ctx.lineTo(x, cssH);
  }
  ctx.stroke();
  ctx.fillStyle = p.muted;
  for (const t of tk) ctx.fillText(t.label, t.x + 3, 9);

  // Buckets.
  for (const r of layout.rows) {
    const lane = s.lanes.get(r.key);
    if (!lane) continue;
    const from = pxToNs(vp, -2);
    const barY = r.y + 3;
    const barH = r.h - 6;
    let lastLabelEnd = -Infinity;
    for (let i = firstEndingAfter(lane, from); i < lane.length; i++) {
      const b = lane[i]!;
      const { x0, x1 } = bucketExtent(vp, b);
      if (x0 > vp.widthPx + 2) break;
      const sev = severityClass(b.maxLevel);
      const selected = b.eventId !== undefined && b.eventId === s.selectedEventId;
      const related = b.eventId !== undefined && s.related.has(b.eventId);
      // Denser buckets draw taller (log scale), so a burst stands out from a trickle.
      const h = Math.round(barH * (0.5 + 0.5 * Math.min(1, Math.log10(b.count) / 3)));
      ctx.fillStyle = selected ? p.selected : related ? p.related : sev === 'error' ? p.error : sev === 'warn' ? p.warn : p.bar;
      ctx.fillRect(x0, barY + barH - h, Math.max(1, x1 - x0), h);
      if (selected || related) {
        ctx.strokeStyle = selected ? p.selected : p.related;
        ctx.strokeRect(x0 - 2.5, r.y + 1.5, x1 - x0 + 5, r.h - 3);
      }
      // A single event's text fits when the neighbours leave room: draw it as plain text (canvas never parses markup).
      if (b.text !== undefined && b.count === 1 && x0 > lastLabelEnd + 4) {
        const next = lane[i + 1];
        const room = (next ? nsToPx(vp, next.startNs) : vp.widthPx) - x1 - 6;
        if (room > 40) {
          const label = clip(visible(b.text), Math.floor(room / 6));
          ctx.fillStyle = p.fg;
          ctx.fillText(label, x1 + 3, r.y + r.h / 2);
          lastLabelEnd = x1 + 3 + ctx.measureText(label).width;
        }
      }
    }
  }

  // Spans over the buckets: a thin bar along the top of the lane (steps fill their own lane).
  if (s.spans) {
    for (const r of layout.rows) {
      const lane = s.spans.get(r.key);
      if (lane) drawSpans(ctx, s, lane, r.y, r.h);
    }
  }

  // Annotations at their time (ranges as a band, points as a flag; stars filled).
  for (const a of s.annotations) {
    const x0 = nsToPx(vp, a.startNs);
    const x1 = a.endNs !== undefined ? nsToPx(vp, a.endNs) : x0;
    if (x1 < -10 || x0 > vp.widthPx + 10) continue;
    ctx.fillStyle = p.annotation;
    if (x1 - x0 > 2) {
      ctx.globalAlpha = 0.18;
      ctx.fillRect(x0, layout.annotationsY, x1 - x0, cssH - layout.annotationsY);
      ctx.globalAlpha = 1;
    }
    ctx.fillRect(x0 - 1, layout.annotationsY + 2, 2, cssH - layout.annotationsY - 2);
    ctx.fillText(a.starred ? '★' : '⚑', x0 + 3, layout.annotationsY + layout.annotationsH / 2);
    ctx.fillText(clip(visible(a.label), 30), x0 + 14, layout.annotationsY + layout.annotationsH / 2);
  }

  if (s.brush) {
    const a = Math.min(s.brush.x0, s.brush.x1);
    const b = Math.max(s.brush.x0, s.brush.x1);
    ctx.fillStyle = p.brush;
    ctx.globalAlpha = 0.25;
    ctx.fillRect(a, layout.axisH, b - a, cssH - layout.axisH);
    ctx.globalAlpha = 1;
  }
  if (s.cursorX !== undefined) {
    ctx.strokeStyle = p.muted;
    ctx.beginPath();
    ctx.moveTo(Math.round(s.cursorX) + 0.5, layout.axisH);
    ctx.lineTo(Math.round(s.cursorX) + 0.5, cssH);
    ctx.stroke();
  }
  ctx.restore();

  if (s.loading) {
    ctx.fillStyle = p.muted;
    ctx.fillText('loading…', cssW - 60, 9);
  }
  ctx.restore();
}

function drawSpans(ctx: CanvasRenderingContext2D, s: Scene, lane: readonly TSpan[], y: number, h: number): void {
  const p = s.palette;
  let lastLabelEnd = -Infinity;
  for (const { span, x0, x1 } of drawableSpans(s.vp, lane)) {
    const isStep = span.kind === 'step';
    const sev = severityClass(span.level);
    const selected = span.eventId !== undefined && span.eventId === s.selectedEventId;
    const color = selected ? p.selected : sev === 'error' ? p.error : sev === 'warn' && !isStep ? p.warn : isStep ? p.step : p.span;
    const by = isStep ? y + 3 : y + 2;
    const bh = isStep ? h - 6 : 5;
    const a = Math.max(x0, -2);
    const b = Math.min(x1, s.vp.widthPx + 2);
    ctx.globalAlpha = isStep ? 0.55 : 0.85;
    ctx.fillStyle = color;
    ctx.fillRect(a, by, Math.max(1, b - a), bh);
    ctx.globalAlpha = 1;
    if (span.kind === 'recall' || span.kind === 'grace') {
      // Bracket the ends: a period between two events, not one event's duration.
      ctx.fillRect(x0, y + 1, 1.5, h - 2);
      ctx.fillRect(x1 - 1.5, y + 1, 1.5, h - 2);
    }
    // Labels as plain text (canvas never parses markup), only where they fit.
    if (isStep || span.kind !== 'duration') {
      const room = b - Math.max(a, lastLabelEnd) - 6;
      if (room > 30) {
        const label = clip(visible(span.label), Math.floor(room / 6));
        ctx.fillStyle = p.fg;
        ctx.fillText(label, Math.max(a, 0) + 3, isStep ? y + h / 2 : y + 10);
        lastLabelEnd = Math.max(a, 0) + 3 + ctx.measureText(label).width;
      }
    }
  }
}
