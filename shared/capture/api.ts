/** Public entry points of the capture decoder (pure TypeScript, no Node). */
export { createCaptureDecoder, decodeCaptureBytes, type CaptureDecoder, type CaptureDecoderOptions } from './decoder';
export { SrtAccumulator, srtStats, formatSrt, type SrtRow, type SrtStats } from './srt';
export { copyFrame, readPacketAt, writePcapng, type CapturedFrame } from './index';
export type { CaptureSummary, RpcData, RpcCred, RpcProgramName } from '../rpc/types';

/** True when the bytes start like a capture this decoder reads (pcap either byte order/resolution, pcapng, or gzip of one). */
export function looksLikeCapture(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  if (head[0] === 0x1f && head[1] === 0x8b) return true;
  const m = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 || m === 0x0a0d0d0a;
}
export { decodeCaptureStream } from './stream';
export { rpcJsonLine, type RpcJsonLine } from './jsonl';
