/**
 * Host clock offset, measured like an NTP client sample (RFC 5905 §8, simplified to one server timestamp):
 * we note our time t0, ask for the remote wall clock, note t1 when the answer arrives; the remote read
 * happened somewhere in [t0, t1], so offset = remote - (t0+t1)/2 with uncertainty (t1-t0)/2. Of several
 * samples the one with the smallest round trip is kept (least queueing delay, tightest bound).
 * The same answer carries /proc/uptime, giving the boot instant in the host's clock (remote now - uptime),
 * which dmesg's boot-relative stamps need.
 * Samples go over one channel running a tiny read loop, so a sample costs one round trip, not a channel open.
 */
import type { ClientChannel } from 'ssh2';
import { secondsTextToNanos } from '../../shared/model/time';

export interface ClockMeasurement {
  /** remote - local, ns. Add to a local instant to get host time; subtract from host times to get ours. */
  readonly offsetNs: bigint;
  readonly uncertaintyNs: bigint;
  /** Boot instant in the host's own wall clock (host now - uptime). */
  readonly bootTimeNs?: bigint;
  /** Our wall clock at the chosen sample's midpoint. */
  readonly measuredAtNs: bigint;
  readonly samples: number;
  /** e.g. "date has no %N: second resolution". */
  readonly note?: string;
}

const baseWallNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const baseHr = process.hrtime.bigint();

/** Our wall clock in ns with monotonic sub-ms resolution (hrtime anchored once to the wall clock). */
export function wallNowNs(): bigint {
  return baseWallNs + (process.hrtime.bigint() - baseHr);
}

/** The remote side of the probe: a first line saying whether coreutils `timeout` exists, then one sample per input line. */
export const PROBE_SCRIPT =
  'if command -v timeout >/dev/null 2>&1; then echo casefile-timeout=yes; else echo casefile-timeout=no; fi; ' +
  // One printf per sample: a single write is a single segment, so Nagle's algorithm on a hop that has not set
  // TCP_NODELAY (sshd sets it only for pty sessions) cannot hold half an answer back for a delayed ACK.
  'while IFS= read -r _l; do d=$(date +%s%N); u=$(cat /proc/uptime 2>/dev/null || echo none); printf \'%s\\n%s\\ncasefile-end\\n\' "$d" "$u"; done';

export interface ProbeResult {
  readonly hasTimeout: boolean;
  readonly clock?: ClockMeasurement;
  readonly note?: string;
}

/** Run the probe on an open exec channel of PROBE_SCRIPT. Resolves after `samples` samples or `deadlineMs`. */
export function runProbe(ch: ClientChannel, samples: number, deadlineMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let buf = '';
    let hasTimeout: boolean | undefined;
    let t0 = 0n;
    let best: { t0: bigint; t1: bigint; remote: bigint; uptime?: bigint; coarse: boolean } | undefined;
    let count = 0;
    let finished = false;
    const finish = (note?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      ch.end();
      ch.close();
      let clock: ClockMeasurement | undefined;
      if (best) {
        const mid = (best.t0 + best.t1) / 2n;
        const rtt = best.t1 - best.t0;
        const uncertainty = rtt / 2n + (best.coarse ? 1_000_000_000n : 0n);
        clock = {
          offsetNs: best.remote - mid,
          uncertaintyNs: uncertainty,
          ...(best.uptime !== undefined ? { bootTimeNs: best.remote - best.uptime } : {}),
          measuredAtNs: mid,
          samples: count,
          ...(best.coarse ? { note: 'the host date has no %N: offset known to the second only' } : {}),
        };
      }
      resolve({ hasTimeout: hasTimeout ?? false, ...(clock ? { clock } : {}), ...(note ? { note } : {}) });
    };
    const timer = setTimeout(() => finish(`clock probe did not finish within ${deadlineMs} ms`), deadlineMs);
    const ask = (): void => {
      t0 = wallNowNs();
      ch.write('\n');
    };
    ch.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        if (hasTimeout === undefined) {
          const nl = buf.indexOf('\n');
          if (nl < 0) return;
          const first = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          hasTimeout = first === 'casefile-timeout=yes';
          ask();
          continue;
        }
        const end = buf.indexOf('casefile-end\n');
        if (end < 0) return;
        const t1 = wallNowNs();
        const block = buf.slice(0, end).split('\n');
        buf = buf.slice(end + 'casefile-end\n'.length);
        const dateText = (block[0] ?? '').trim();
        let remote: bigint | undefined;
        let coarse = false;
        if (/^\d{10,}$/.test(dateText) && dateText.length >= 19) remote = BigInt(dateText);
        else {
          // busybox/BSD date prints "%N" literally: keep the seconds
          const secs = /^(\d+)/.exec(dateText);
          if (secs) {
            remote = BigInt(secs[1]!) * 1_000_000_000n;
            coarse = true;
          }
        }
        const upText = (block[1] ?? '').split(/\s+/)[0] ?? '';
        const uptime = secondsTextToNanos(upText);
        count++;
        if (remote !== undefined && (!best || t1 - t0 < best.t1 - best.t0)) {
          best = { t0, t1, remote, coarse, ...(uptime !== undefined ? { uptime } : {}) };
        }
        if (count >= samples) return finish();
        ask();
      }
    });
    ch.on('close', () => finish(count < samples ? 'clock probe channel closed early' : undefined));
    ch.stderr.on('data', () => undefined);
  });
}
