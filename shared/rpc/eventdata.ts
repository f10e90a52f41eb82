/**
 * The `data` object of an 'rpc' event (RpcData), keys always in this order, optional ones present only when set:
 *   xid program programNumber version procedure procedureNumber [ops] [opStatuses] [status] [statusCode] [latencyMs]
 *   client server callFrame (replyFrame replyTs replyFrameOffset | noReply) [retransmitOf] transport [cred]
 *   frameOffset [truncated] detail
 *
 * Nearly every event is an answered first transmission with credentials and whole XDR; those are built as one
 * object literal per key set. Built by assignment, the properties past the first few spill out of the object
 * into a property array that is regrown every few keys: about 700 bytes of garbage per event, a third of all
 * the decoder allocated. The other events (unanswered, retransmitted, truncated...) take the general path.
 */
import type { CallOut, ReplyOut } from './programs/types';
import type { MsgMeta } from './tracker';
import type { RpcCred, RpcProgramName } from './types';

/** What the event needs of the call (the tracker's pending call). */
export interface CallPart {
  readonly xid: number;
  readonly programNumber: number;
  readonly version: number;
  readonly proc: number;
  readonly client: string;
  readonly server: string;
  readonly frame: number;
  readonly offset: number;
  readonly transport: 'tcp' | 'udp';
  readonly cred: RpcCred | undefined;
  readonly truncated: boolean;
  readonly retransmitOf?: number;
}

/**
 * `ro`, `reply`, `replyTs` and `latencyMs` are all set for an answered call and all undefined otherwise;
 * `replyShort`: the reply's XDR ended early.
 */
export function rpcEventData(
  program: RpcProgramName, procedure: string, c: CallPart, out: CallOut,
  ro: ReplyOut | undefined, reply: MsgMeta | undefined, replyTs: string | undefined, latencyMs: number | undefined, replyShort: boolean,
): Record<string, unknown> {
  const ops = out.ops;
  if (ro !== undefined && reply !== undefined && ro.status !== undefined && c.retransmitOf === undefined && c.cred !== undefined && !c.truncated && !replyShort) {
    const { status, statusCode, opStatuses } = ro;
    if (ops === undefined && opStatuses === undefined) {
      return statusCode === undefined
        ? {
            xid: c.xid, program, programNumber: c.programNumber, version: c.version, procedure, procedureNumber: c.proc,
            status, latencyMs,
            client: c.client, server: c.server, callFrame: c.frame, replyFrame: reply.frame, replyTs, replyFrameOffset: reply.offset,
            transport: c.transport, cred: c.cred, frameOffset: c.offset, detail: out.detail,
          }
        : {
            xid: c.xid, program, programNumber: c.programNumber, version: c.version, procedure, procedureNumber: c.proc,
            status, statusCode, latencyMs,
            client: c.client, server: c.server, callFrame: c.frame, replyFrame: reply.frame, replyTs, replyFrameOffset: reply.offset,
            transport: c.transport, cred: c.cred, frameOffset: c.offset, detail: out.detail,
          };
    }
    if (ops !== undefined && opStatuses !== undefined && statusCode !== undefined) {
      return {
        xid: c.xid, program, programNumber: c.programNumber, version: c.version, procedure, procedureNumber: c.proc,
        ops, opStatuses, status, statusCode, latencyMs,
        client: c.client, server: c.server, callFrame: c.frame, replyFrame: reply.frame, replyTs, replyFrameOffset: reply.offset,
        transport: c.transport, cred: c.cred, frameOffset: c.offset, detail: out.detail,
      };
    }
  }
  const data: Record<string, unknown> = {
    xid: c.xid,
    program,
    programNumber: c.programNumber,
    version: c.version,
    procedure,
    procedureNumber: c.proc,
  };
  if (ops !== undefined) data.ops = ops;
  if (ro !== undefined) {
    if (ro.opStatuses !== undefined) data.opStatuses = ro.opStatuses;
    if (ro.status !== undefined) data.status = ro.status;
    if (ro.statusCode !== undefined) data.statusCode = ro.statusCode;
  }
  if (latencyMs !== undefined) data.latencyMs = latencyMs;
  data.client = c.client;
  data.server = c.server;
  data.callFrame = c.frame;
  if (reply !== undefined) {
    data.replyFrame = reply.frame;
    data.replyTs = replyTs;
    data.replyFrameOffset = reply.offset;
  } else data.noReply = true;
  if (c.retransmitOf !== undefined) data.retransmitOf = c.retransmitOf;
  data.transport = c.transport;
  if (c.cred !== undefined) data.cred = c.cred;
  data.frameOffset = c.offset;
  if (c.truncated || replyShort) data.truncated = true;
  data.detail = out.detail;
  return data;
}
