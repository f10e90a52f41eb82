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
  const perProc: Record<string, number> = {};
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
    const k = `${d.programNumber}/${d.version}/${d.procedureNumber}`;
    perProc[k] = (perProc[k] ?? 0) + 1;
  });
  const decodeMs = performance.now() - t0;
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(JSON.stringify({ decodeMs, cpuMs, calls, answered, perProc, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
}

void main();
