import { formatSrt, SrtAccumulator } from '../../shared/capture/api';
import { decodeCaptureFile } from '../capture/file';

export { decodeCaptureFile };

/**
 * `casefile stats`: service response time per program/version/procedure and per NFSv4 operation, like tshark
 * -z rpc,srt. Streams: the table is accumulated reply by reply, no event is built or kept per call, so memory
 * is the decoder's (open conversations) whatever the capture's size.
 */
export async function captureStats(file: string): Promise<string> {
  const srt = new SrtAccumulator();
  const summary = await decodeCaptureFile(file, () => undefined, { rpcEvents: false, answered: srt.answered });
  const table = formatSrt(srt.stats());
  const head = `${summary.rpcCalls} RPC calls, ${summary.matched} answered, ${summary.noReply} without a reply in the capture, ${summary.orphanReplies} replies without their call`;
  const text = table.trim() ? `${head}\n${table}` : `${head}\n(no answered calls: no response times to report)`;
  return summary.warnings.length ? `${text}\n\nwarnings (partial result):\n${summary.warnings.map((w) => `  ${w}`).join('\n')}` : text;
}
