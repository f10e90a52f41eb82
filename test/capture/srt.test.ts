/** Service response times equal `tshark -z rpc,srt` (golden tables from regen.sh and from the lab's decode/). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import { formatSrt, srtStats } from '../../shared/capture/srt';
import { TSHARK_DIR, loadCapture } from './load';

const PROGRAM: Readonly<Record<string, number>> = { nfs: 100003, nlm: 100021, mount: 100005, portmap: 100000, stat: 100024 };

interface TsharkSrt {
  key: string; // program/version/index
  name: string;
  calls: number;
  min: string;
  max: string;
  sum: number;
}

function parseSrt(text: string): TsharkSrt[] {
  const out: TsharkSrt[] = [];
  let prog = 0;
  let vers = 0;
  for (const l of text.split('\n')) {
    const f = /^Filter: (\w+)\.procedure_v(\d+)/.exec(l);
    if (f) {
      prog = PROGRAM[f[1]] ?? -1;
      vers = Number(f[2]);
      continue;
    }
    const m = /^\s+(\d+)\s+(\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/.exec(l);
    if (m) out.push({ key: `${prog}/${vers}/${m[1]}`, name: m[2], calls: Number(m[3]), min: m[4], max: m[5], sum: Number(m[7]) });
  }
  return out;
}

// Captures whose reference reading is a known tshark defect (see tshark-parity.test.ts) use tshark's second reading.
const SECOND_READING = /\.(decode-as|port-based)\.srt\.txt$/;
const secondRead = new Set(readdirSync(TSHARK_DIR).filter((f) => SECOND_READING.test(f)).map((f) => f.replace(SECOND_READING, '')));
const cases: { capture: string; srt: string }[] = [
  ...readdirSync(TSHARK_DIR)
    .filter((f) => f.endsWith('.srt.txt') && (SECOND_READING.test(f) || !secondRead.has(f.replace(/\.srt\.txt$/, ''))))
    .map((f) => ({ capture: f.replace(/(\.(decode-as|port-based))?\.srt\.txt$/, ''), srt: join(TSHARK_DIR, f) })),
  ...readdirSync(join(TSHARK_DIR, 'lab-decode')).filter((f) => f.endsWith('.srt.txt')).map((f) => ({ capture: `lab__${f.replace(/\.srt\.txt$/, '')}.pcap`, srt: join(TSHARK_DIR, 'lab-decode', f) })),
];

describe('SRT equals tshark -z rpc,srt', () => {
  for (const c of cases) {
    const theirs = parseSrt(readFileSync(c.srt, 'utf8'));
    if (theirs.length === 0) continue;
    it(`${c.capture} (${c.srt.includes('lab-decode') ? 'lab decode/' : 'regen'})`, () => {
      const stats = srtStats(decodeCaptureBytes(loadCapture(c.capture)).events);
      const ours = new Map(stats.procedures.map((r) => [`${r.programNumber}/${r.version}/${r.index}`, r]));
      for (const t of theirs) {
        const o = ours.get(t.key);
        expect(o, t.key).toBeDefined();
        if (!o) continue;
        expect(o.calls, `${t.key} calls`).toBe(t.calls);
        expect((o.minMs / 1000).toFixed(6), `${t.key} min`).toBe(t.min);
        expect((o.maxMs / 1000).toFixed(6), `${t.key} max`).toBe(t.max);
        expect(Math.abs(o.sumMs / 1000 - t.sum), `${t.key} sum`).toBeLessThan(1e-6 * (t.calls + 1));
        expect(o.name).toBe(t.name);
      }
      // Every program/version tshark tabulated has no extra procedures on our side.
      const tabulated = new Set(theirs.map((t) => t.key.split('/').slice(0, 2).join('/')));
      const extra = stats.procedures.filter((r) => tabulated.has(`${r.programNumber}/${r.version}`) && !theirs.some((t) => t.key === `${r.programNumber}/${r.version}/${r.index}`));
      expect(extra).toEqual([]);
    });
  }

  it('formatSrt prints tshark-shaped rows and the NFSv4 operation table', () => {
    const stats = srtStats(decodeCaptureBytes(loadCapture('lab__basic-v3-v4.pcap')).events);
    const text = formatSrt(stats);
    const tshark = readFileSync(join(TSHARK_DIR, 'lab-decode', 'basic-v3-v4.srt.txt'), 'utf8');
    // The GETATTR row is byte-identical to tshark's.
    const row = tshark.split('\n').find((l) => /^\s+1\s+GETATTR\s/.test(l));
    expect(row).toBeDefined();
    expect(text.split('\n')).toContain(row);
    expect(text).toMatch(/NFSv4 operation SRT/);
    expect(stats.operations.map((r) => r.name)).toContain('OPEN');
  });
});
