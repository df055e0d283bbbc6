// A uPlot time series (monitoring history): average and peak of one
// figure of one server, sized to its box and redrawn when data change.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface Series {
  label: string;
  /** [unix seconds, avg, max] per point. */
  points: [number, number | null, number | null][];
  format: (v: number) => string;
}

export function Chart({ series, ariaLabel, avgLabel, maxLabel }: { series: Series; ariaLabel: string; avgLabel: string; maxLabel: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = series.points.map((p) => p[0]);
    const avg = series.points.map((p) => p[1]);
    const max = series.points.map((p) => p[2]);
    const fmt = (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : series.format(v));
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 280),
        height: 180,
        legend: { show: true },
        // At least an hour wide, ending at the newest point: a few points
        // (a server that just joined) would otherwise stretch over years.
        scales: { x: { time: true, range: (_u, min, max) => (max - min < 3600 ? [max - 3600, max] : [min, max]) } },
        axes: [{}, { values: (_u, vals) => vals.map((v) => series.format(v)), size: 70 }],
        series: [
          {},
          { label: avgLabel, stroke: '#0066cc', fill: 'rgba(0,102,204,0.1)', value: fmt },
          { label: maxLabel, stroke: '#c9190b', dash: [4, 4], value: fmt },
        ],
      },
      [xs, avg, max] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 280), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, avgLabel, maxLabel]);
  return <div ref={box} className="vdi-chart" role="img" aria-label={ariaLabel} />;
}
