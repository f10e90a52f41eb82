import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useApi } from '../api/context';
import { latencyScatter, rateLines, type Aligned } from '../charts/series';
import { useLoad } from '../util/hooks';
import { visible } from '../util/text';
import { useCase } from './caseContext';

const COLORS = ['#3b6fd1', '#c62828', '#2e7d32', '#b86e00', '#8e24aa', '#00838f', '#6d4c41', '#546e7a', '#999999'];

function Chart({ title, aligned, points, yLabel, testId }: { title: string; aligned: Aligned; points: boolean; yLabel: string; testId: string }): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  const { zone } = useCase();
  useEffect(() => {
    const el = ref.current!;
    const opts: uPlot.Options = {
      title,
      width: Math.max(300, el.clientWidth),
      height: 260,
      tzDate: zone === 'local' ? undefined : (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
      scales: { x: { time: true } },
      axes: [{}, { label: yLabel }],
      series: [
        {},
        ...aligned.series.map((name, i) => ({
          label: visible(name),
          stroke: COLORS[i % COLORS.length],
          width: points ? 0 : 1.5,
          points: points ? { show: true, size: 4, stroke: COLORS[i % COLORS.length], fill: COLORS[i % COLORS.length] } : { show: false },
          paths: points ? () => null : undefined,
          spanGaps: !points,
        })),
      ],
    };
    const plot = new uPlot(opts, aligned.data as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(300, el.clientWidth), height: 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [aligned, points, title, yLabel, zone]);
  return <div className="chart" ref={ref} data-testid={testId} />;
}

/** Charts where people would rather look than read: RPC latency per operation, operation rate, mountstats. */
export function ChartsPanel(): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const rpc = useLoad(() => api.call('charts.rpc', { caseId: ctx.caseId, maxPoints: 20_000, buckets: 200 }), [ctx.caseId, ctx.detail]);
  const ms = useLoad(() => api.call('charts.mountstats', { caseId: ctx.caseId }), [ctx.caseId, ctx.detail]);
  const scatter = rpc.data ? latencyScatter(rpc.data.points) : undefined;
  const rate = rpc.data ? rateLines(rpc.data.rate) : undefined;
  return (
    <div className="charts">
      {rpc.error && <p className="error">{rpc.error}</p>}
      {rpc.data && rpc.data.points.length === 0 && <p className="muted">No RPC calls with a reply in this case (import a capture).</p>}
      {scatter && scatter.data[0].length > 0 && <Chart title={`RPC latency per operation${rpc.data?.sampled ? ' (sampled)' : ''}`} aligned={scatter} points yLabel="ms" testId="chart-latency" />}
      {rate && rate.data[0].length > 0 && <Chart title="Operations per second" aligned={rate} points={false} yLabel="ops/s" testId="chart-rate" />}
      <section className="card">
        <h3>mountstats: queue and RTT per operation</h3>
        {ms.error && <p className="error">{ms.error}</p>}
        {ms.data && ms.data.length === 0 && <p className="muted">No /proc/self/mountstats in this case.</p>}
        {ms.data && ms.data.length > 0 && (
          <table className="grid" data-testid="mountstats-table">
            <thead>
              <tr>
                <th>Host</th>
                <th>Mount</th>
                <th>Op</th>
                <th className="num">Ops</th>
                <th className="num">Queue ms/op</th>
                <th className="num">RTT ms/op</th>
                <th className="num">Backlog/send</th>
              </tr>
            </thead>
            <tbody>
              {ms.data.slice(0, 500).map((r, i) => (
                <tr key={i} className={r.queueMsPerOp > r.rttMsPerOp ? 'level-warn' : ''}>
                  <td>{visible(ctx.hostName(r.hostId))}</td>
                  <td className="mono small">{visible(r.mount)}</td>
                  <td>{visible(r.op)}</td>
                  <td className="num">{r.ops}</td>
                  <td className="num">{r.queueMsPerOp.toFixed(2)}</td>
                  <td className="num">{r.rttMsPerOp.toFixed(2)}</td>
                  <td className="num">{r.backlogPerSend === undefined ? '' : r.backlogPerSend.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="muted small">A queue time per op well above the RTT means requests wait for a transport slot on the client, not for the server.</p>
      </section>
    </div>
  );
}
