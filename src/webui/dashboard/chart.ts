/**
 * A small canvas chart: two stacked panels sharing a time axis, each with its own series and
 * y scale (throughput in bytes/s above, WANT results and retries per second below).
 */
export interface Series {
  label: string;
  color: string;
  values: number[];
}

export interface Panel {
  title: string;
  unit: (v: number) => string;
  series: Series[];
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function drawChart(canvas: HTMLCanvasElement, panels: Panel[], points: number): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || canvas.width;
  const cssH = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue('--muted').trim() || '#888';
  const line = style.getPropertyValue('--line').trim() || '#ddd';
  const left = 70, right = 10, gap = 18;
  const padTop = 10, padBottom = 16;
  const panelH = (cssH - gap * (panels.length - 1) - padTop - padBottom) / panels.length;
  const plotW = cssW - left - right;
  ctx.font = '11px system-ui, sans-serif';
  panels.forEach((panel, pi) => {
    const top = padTop + pi * (panelH + gap);
    const max = niceMax(Math.max(0, ...panel.series.flatMap((s) => s.values)));
    // grid and labels
    ctx.strokeStyle = line;
    ctx.fillStyle = fg;
    ctx.lineWidth = 1;
    for (let g = 0; g <= 2; g++) {
      const y = top + panelH - (panelH * g) / 2;
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y) + 0.5);
      ctx.lineTo(left + plotW, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(panel.unit((max * g) / 2), left - 6, y);
    }
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(panel.title, left + 6, top + 3);
    const step = points > 1 ? plotW / (points - 1) : plotW;
    for (const s of panel.series) {
      const vals = s.values.slice(-points);
      if (vals.length === 0) continue;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.6;
      ctx.beginPath();
      const offset = points - vals.length;
      vals.forEach((v, i) => {
        const x = left + (offset + i) * step;
        const y = top + panelH - (panelH * Math.min(v, max)) / max;
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.stroke();
    }
  });
  ctx.fillStyle = fg;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  ctx.fillText(`last ${points} s`, left + plotW, cssH);
}
