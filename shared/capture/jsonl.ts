/**
 * The `casefile parse FILE` line for one RPC (DESIGN.md "CLI"): kind, ts (ISO 8601 UTC, nanoseconds), xid,
 * program, version, procedure, ops, status, latency_ms, client, server (+ a few extra fields).
 */
import type { ParsedEvent } from '../model/event';
import { toIso } from '../model/time';
import type { RpcData } from '../rpc/types';

export interface RpcJsonLine {
  readonly kind: 'rpc';
  readonly ts: string;
  readonly xid: string;
  readonly program: string;
  readonly version: number;
  readonly procedure: string;
  readonly ops?: readonly string[];
  readonly status?: string;
  readonly latency_ms?: number;
  readonly client: string;
  readonly server: string;
  readonly transport: 'tcp' | 'udp';
  readonly frame?: number;
  readonly no_reply?: true;
  readonly orphan_reply?: true;
}

/** undefined for events that are not RPCs (transport notes). */
export function rpcJsonLine(e: ParsedEvent): RpcJsonLine | undefined {
  if (e.kind !== 'rpc' || e.ts === undefined) return undefined;
  const d = e.data as unknown as RpcData;
  return {
    kind: 'rpc',
    ts: toIso(e.ts, 9),
    xid: `0x${d.xid.toString(16).padStart(8, '0')}`,
    program: d.program,
    version: d.version,
    procedure: d.procedure,
    ...(d.ops !== undefined ? { ops: d.ops } : {}),
    ...(d.status !== undefined ? { status: d.status } : {}),
    ...(d.latencyMs !== undefined ? { latency_ms: d.latencyMs } : {}),
    client: d.client,
    server: d.server,
    transport: d.transport,
    ...(d.callFrame !== undefined ? { frame: d.callFrame } : d.replyFrame !== undefined ? { frame: d.replyFrame } : {}),
    ...(d.noReply ? { no_reply: true as const } : {}),
    ...(d.orphanReply ? { orphan_reply: true as const } : {}),
  };
}
