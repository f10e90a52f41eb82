/**
 * Second reference: the lab's own tshark reading (shared/fixtures/lab/decode/*.fields.tsv, copied to
 * test/fixtures/tshark/lab-decode/): per-frame fields; calls per program/version/procedure and latencies.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import type { RpcData } from '../../shared/rpc/types';
import { TSHARK_DIR, loadCapture } from './load';

const DIR = join(TSHARK_DIR, 'lab-decode');

describe('lab decode/ fields.tsv agree', () => {
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.fields.tsv'))) {
    it(f, () => {
      const [head, ...lines] = readFileSync(join(DIR, f), 'utf8').split('\n').filter((l) => l !== '');
      const col = Object.fromEntries(head.split('\t').map((c, i) => [c, i]));
      const theirCalls = new Map<string, number>();
      const theirTime = new Map<number, string>(); // reply frame -> rpc.time
      for (const l of lines) {
        const c = l.split('\t');
        const types = c[col['rpc.msgtyp']].split(',');
        const progs = c[col['rpc.program']].split(',');
        const procs = c[col['rpc.procedure']].split(',');
        // programversion appears twice per record in this export: take every other value.
        const vers = c[col['rpc.programversion']].split(',').filter((_v, i) => i % 2 === 0);
        types.forEach((t, i) => {
          if (t !== '0') return;
          const k = `${progs[i]}/${vers[i]}/${procs[i]}`;
          theirCalls.set(k, (theirCalls.get(k) ?? 0) + 1);
        });
        if (types.length === 1 && types[0] === '1' && c[col['rpc.time']]) theirTime.set(Number(c[col['frame.number']]), c[col['rpc.time']]);
      }
      const capture = `lab__${f.replace('.fields.tsv', '')}.pcap`;
      const ourCalls = new Map<string, number>();
      let timed = 0;
      for (const e of decodeCaptureBytes(loadCapture(capture)).events) {
        if (e.kind !== 'rpc') continue;
        const d = e.data as unknown as RpcData;
        const k = `${d.programNumber}/${d.version}/${d.procedureNumber}`;
        ourCalls.set(k, (ourCalls.get(k) ?? 0) + 1);
        const t = d.replyFrame !== undefined ? theirTime.get(d.replyFrame) : undefined;
        if (t !== undefined && e.durationNs !== undefined) {
          // rpc.time is printed with 9 decimals from the same capture clock: equal to the nanosecond.
          const [s, frac] = t.split('.');
          expect(e.durationNs, `latency of call in frame ${d.callFrame}`).toBe(BigInt(s) * 1_000_000_000n + BigInt(frac.padEnd(9, '0')));
          timed++;
        }
      }
      expect(Object.fromEntries(ourCalls)).toEqual(Object.fromEntries(theirCalls));
      expect(timed).toBeGreaterThan(10);
    });
  }
});
