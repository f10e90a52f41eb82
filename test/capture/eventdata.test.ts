/**
 * The `data` of 'rpc' events is built by one object literal per common key set (shared/rpc/eventdata.ts) and
 * by assignment otherwise. Whatever the path, the keys must come in RpcData's one order, only present keys
 * appear (never a key holding undefined), and the values must be what the general path would give.
 * Checked over every event of every fixture capture, against a re-build through the general path, and the
 * values against the event and the capture itself (frame numbers, offsets and instants of call and reply).
 */
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import { readPacketAt } from '../../shared/capture/index';
import { rpcEventData } from '../../shared/rpc/eventdata';
import type { RpcData } from '../../shared/rpc/types';
import { captureNames, loadCapture } from './load';

const ORDER = [
  'xid', 'program', 'programNumber', 'version', 'procedure', 'procedureNumber', 'ops', 'opStatuses', 'status', 'statusCode', 'latencyMs',
  'client', 'server', 'callFrame', 'replyFrame', 'replyTs', 'replyFrameOffset', 'noReply', 'orphanReply', 'retransmitOf', 'transport', 'cred',
  'frameOffset', 'truncated', 'detail',
];

/** The same event's data rebuilt through rpcEventData's general path (a retransmitOf forces it off the fast path). */
function viaGeneralPath(d: RpcData): Record<string, unknown> {
  const answered = d.replyFrame !== undefined;
  const forced = rpcEventData(
    d.program, d.procedure,
    {
      xid: d.xid, programNumber: d.programNumber, version: d.version, proc: d.procedureNumber, client: d.client, server: d.server,
      frame: d.callFrame ?? 0, offset: d.frameOffset ?? 0, transport: d.transport, cred: d.cred, truncated: d.truncated === true, retransmitOf: -1,
    },
    { detail: d.detail as Record<string, unknown>, ops: d.ops as string[] | undefined },
    answered ? { status: d.status, statusCode: d.statusCode, opStatuses: d.opStatuses as string[] | undefined } : undefined,
    answered ? { frame: d.replyFrame ?? 0, tsSec: 0, tsNsec: 0, offset: d.replyFrameOffset ?? 0 } : undefined,
    d.replyTs, d.latencyMs, false,
  );
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(forced)) if (k !== 'retransmitOf' || d.retransmitOf !== undefined) out[k] = k === 'retransmitOf' ? d.retransmitOf : v;
  return out;
}

describe('rpc event data', () => {
  it('keys in RpcData order, no undefined values, same as the general path, for every fixture event', () => {
    let fast = 0;
    let checked = 0;
    for (const name of captureNames()) {
      const capture = loadCapture(name);
      const { events } = decodeCaptureBytes(capture);
      let located = 0;
      for (const e of events) {
        if (e.kind !== 'rpc') continue;
        const d = e.data as unknown as RpcData;
        if (d.orphanReply !== true) {
          expect(d.callFrame).toBe(e.line);
          if (d.replyFrame !== undefined) {
            expect(d.replyFrame).toBeGreaterThanOrEqual(d.callFrame ?? 0);
            expect(BigInt(d.replyTs ?? '0')).toBe((e.ts ?? 0n) + (e.durationNs ?? 0n));
            expect(d.latencyMs).toBe(Number(e.durationNs) / 1e6);
          }
          // The offsets lead back to the call's and the reply's frames (a sample per capture: pcapng look-ups walk the file).
          if (located++ < 40) {
            expect(readPacketAt(capture, d.frameOffset ?? -1)?.ts).toBe(e.ts);
            if (d.replyFrameOffset !== undefined) expect(readPacketAt(capture, d.replyFrameOffset)?.ts.toString()).toBe(d.replyTs);
          }
        }
        const keys = Object.keys(d);
        const pos = keys.map((k) => ORDER.indexOf(k));
        expect(pos.every((p) => p >= 0), `${name} frame ${e.line}: unknown key in ${keys.join(',')}`).toBe(true);
        expect([...pos].sort((a, b) => a - b), `${name} frame ${e.line}: key order ${keys.join(',')}`).toEqual(pos);
        expect(Object.values(d).includes(undefined), `${name} frame ${e.line}: undefined value`).toBe(false);
        if (d.orphanReply === true) continue;
        expect(JSON.stringify(viaGeneralPath(d)), `${name} frame ${e.line}`).toBe(JSON.stringify(d));
        checked++;
        if (d.replyFrame !== undefined && d.retransmitOf === undefined && d.cred !== undefined && d.truncated === undefined) fast++;
      }
    }
    // Both paths are exercised by the fixtures.
    expect(fast).toBeGreaterThan(1000);
    expect(checked - fast).toBeGreaterThan(100);
  });
});
