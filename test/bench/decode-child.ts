/**
 * Child process of the decode benchmark: stream-decode one capture file with the Node reader and print
 * {decodeMs, calls, answered, perProc, maxRssKb} as JSON. Nothing is kept per event (counts only), so the
 * peak RSS is the decoder's own.
 */
import { decodeCaptureFile } from '../../electron/capture/file';
import type { RpcData } from '../../shared/rpc/types';

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) throw new Error('usage: decode-child FILE');
  // Counted by number (program -> version * 2^32 + procedure), not by a string key built per event: the
  // harness's own bookkeeping is not what is measured.
  const counts = new Map<number, Map<number, number>>();
  let calls = 0;
  let answered = 0;
  const t0 = performance.now();
  await decodeCaptureFile(path, (e) => {
    if (e.kind !== 'rpc') return;
    const d = e.data as unknown as RpcData;
    if (d.orphanReply) return;
    calls++;
    if (d.noReply || d.retransmitOf !== undefined) return;
    answered++;
    let m = counts.get(d.programNumber);
    if (m === undefined) counts.set(d.programNumber, (m = new Map()));
    const k = d.version * 4294967296 + d.procedureNumber;
    m.set(k, (m.get(k) ?? 0) + 1);
  });
  const decodeMs = performance.now() - t0;
  const perProc: Record<string, number> = {};
  for (const [prog, m] of counts) for (const [k, n] of m) perProc[`${prog}/${Math.floor(k / 4294967296)}/${k % 4294967296}`] = n;
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(JSON.stringify({ decodeMs, cpuMs, calls, answered, perProc, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
}

void main();
