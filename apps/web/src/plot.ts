import type { SpeechSegment } from '@lepton/contracts';

export interface PlotSeries {
  label: string;
  color: string;
  /** Per-chunk probabilities in [0, 1]. */
  probabilities: ArrayLike<number>;
  segments: SpeechSegment[];
  dashed?: boolean;
}

const PAD = { left: 44, right: 12, top: 12, bottom: 30 };

/**
 * Probability over time for each platform on one canvas. Each series' segments are shaded in its own colour in
 * its own band (first series the top half, second the bottom half), so two agreeing platforms are easy to see.
 */
export function drawProbabilityPlot(canvas: HTMLCanvasElement, series: PlotSeries[], durationSec: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const ratio = globalThis.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 800;
  const cssHeight = canvas.clientHeight || 260;
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, cssWidth, cssHeight);

  const w = cssWidth - PAD.left - PAD.right;
  const h = cssHeight - PAD.top - PAD.bottom;
  const span = durationSec > 0 ? durationSec : 1;
  const x = (sec: number): number => PAD.left + (sec / span) * w;
  const y = (p: number): number => PAD.top + (1 - p) * h;

  series.forEach((s, band) => {
    ctx.fillStyle = withAlpha(s.color, 0.16);
    const top = band === 0 ? y(1) : y(0.5);
    for (const seg of s.segments) ctx.fillRect(x(seg.start), top, Math.max(1, x(seg.end) - x(seg.start)), h / 2);
  });

  drawAxes(ctx, x, y, span, w, h);

  for (const s of series) {
    const n = s.probabilities.length;
    if (n === 0) continue;
    const chunkSec = span / n;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(s.dashed ? [5, 4] : []);
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const px = x((i + 0.5) * chunkSec);
      const py = y(s.probabilities[i]!);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
  drawLegend(ctx, series, PAD.left + 8, PAD.top + 14);
}

function drawAxes(
  ctx: CanvasRenderingContext2D,
  x: (sec: number) => number,
  y: (p: number) => number,
  span: number,
  w: number,
  h: number,
): void {
  ctx.strokeStyle = '#888';
  ctx.fillStyle = '#333';
  ctx.lineWidth = 1;
  ctx.font = '11px system-ui, sans-serif';
  ctx.strokeRect(PAD.left, PAD.top, w, h);
  ctx.textAlign = 'right';
  for (const p of [0, 0.5, 1]) ctx.fillText(p.toFixed(1), PAD.left - 6, y(p) + 4);
  ctx.textAlign = 'center';
  const step = niceStep(span);
  for (let t = 0; t <= span + 1e-9; t += step) ctx.fillText(`${+t.toFixed(2)} s`, x(t), PAD.top + h + 18);
}

function drawLegend(ctx: CanvasRenderingContext2D, series: PlotSeries[], left: number, top: number): void {
  ctx.textAlign = 'left';
  series.forEach((s, i) => {
    const yy = top + i * 16;
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dashed ? [5, 4] : []);
    ctx.beginPath();
    ctx.moveTo(left, yy - 4);
    ctx.lineTo(left + 22, yy - 4);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#222';
    ctx.fillText(s.label, left + 28, yy);
  });
}

/** A tick spacing of 1, 2 or 5 x 10^k giving at most about ten ticks. */
function niceStep(span: number): number {
  const raw = span / 10;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
