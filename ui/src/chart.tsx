/**
 * A time chart on uPlot (a few KiB of canvas drawing: the page stays small and fast with
 * thousands of points). `times` in ms; each series one line, with `null` where it has no value.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
}

export interface ChartProps {
  readonly title: string;
  readonly times: readonly number[];
  readonly series: readonly ChartSeries[];
  readonly height?: number;
  readonly testid?: string;
  /** Formats the y axis' ticks. */
  readonly format?: (v: number) => string;
  /** Draw points as well as lines (sparse data: metric points). */
  readonly points?: boolean;
}

const COLORS = ['#2f7ed8', '#e4572e', '#17a589', '#f3a712', '#8e44ad', '#29335c', '#c0392b', '#7f8c8d', '#16a085', '#d35400'];

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef('');
  const data = [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values as (number | null)[])] as uPlot.AlignedData;
  const key = `${props.series.map((s) => s.label).join('\u0000')}|${props.height ?? 180}`;

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    if (plot.current !== null && shape.current === key) {
      plot.current.setData(data);
      return;
    }
    plot.current?.destroy();
    shape.current = key;
    const fmt = props.format;
    plot.current = new uPlot(
      {
        title: props.title,
        width: Math.max(300, el.clientWidth - 12),
        height: props.height ?? 180,
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length]!,
            width: 1.5,
            spanGaps: true,
            points: { show: props.points === true },
          })),
        ],
        axes: [{}, fmt === undefined ? {} : { values: (_u: uPlot, ticks: number[]) => ticks.map(fmt), size: 70 }],
        legend: { live: false },
      },
      data,
      el,
    );
  });

  useEffect(() => {
    const resize = (): void => {
      const el = box.current;
      if (el !== null) plot.current?.setSize({ width: Math.max(300, el.clientWidth - 12), height: props.height ?? 180 });
    };
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  return <div class="chart" ref={box} data-testid={props.testid} data-series={props.series.map((s) => s.label).join(',')} />;
}
