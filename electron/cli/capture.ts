import type { ParsedEvent } from '../../shared/model/event';
import { formatSrt, srtStats } from '../../shared/capture/api';
import { decodeCaptureFile } from '../capture/file';

export { decodeCaptureFile };

/** `casefile stats`: service response time per program/version/procedure and per NFSv4 operation, like tshark -z rpc,srt. */
export async function captureStats(file: string): Promise<string> {
  const events: ParsedEvent[] = [];
  const summary = await decodeCaptureFile(file, (e) => {
    if (e.kind === 'rpc') events.push(e);
  });
  const table = formatSrt(srtStats(events));
  const head = `${summary.rpcCalls} RPC calls, ${summary.matched} answered, ${summary.noReply} without a reply in the capture, ${summary.orphanReplies} replies without their call`;
  const text = table.trim() ? `${head}\n${table}` : `${head}\n(no answered calls: no response times to report)`;
  return summary.warnings.length ? `${text}\n\nwarnings (partial result):\n${summary.warnings.map((w) => `  ${w}`).join('\n')}` : text;
}
