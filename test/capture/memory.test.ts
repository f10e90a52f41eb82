/** Memory is bounded by open conversations: pending tables are capped, closed and idle conversations dropped. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaptureDecoder } from '../../shared/capture/decoder';
import type { RpcData } from '../../shared/rpc/types';
import { synthesize } from '../bench/decode';
import { loadCapture } from './load';

function feed(bytes: Uint8Array, opts: Parameters<typeof createCaptureDecoder>[0], chunk = 4096) {
  let maxPending = 0;
  let maxConvs = 0;
  const rpcs: RpcData[] = [];
  const dec = createCaptureDecoder(opts, (e) => {
    if (e.kind === 'rpc') rpcs.push(e.data as unknown as RpcData);
  });
  for (let i = 0; i < bytes.length; i += chunk) {
    dec.push(bytes.subarray(i, i + chunk));
    const h = dec.held();
    maxPending = Math.max(maxPending, h.pendingCalls);
    maxConvs = Math.max(maxConvs, h.conversations);
  }
  const before = dec.held();
  const summary = dec.end();
  return { maxPending, maxConvs, before, summary, rpcs };
}

describe('bounded state', () => {
  it('5000 unanswered calls with a pending bound of 100: never more than 100 held, all 5000 reported', () => {
    const r = feed(loadCapture('zeek__portmapper-many-unanswered-calls.pcapng.gz'), { maxPendingPerConversation: 100 });
    expect(r.maxPending).toBeLessThanOrEqual(100);
    expect(r.rpcs.length).toBe(5000);
    expect(r.rpcs.every((d) => d.noReply)).toBe(true);
    expect(r.summary.noReply).toBe(5000);
  });

  it('a long capture on 64 connections holds only the calls in flight', () => {
    const dir = mkdtempSync(join(tmpdir(), 'casefile-mem-'));
    try {
      const file = join(dir, 's.pcap');
      synthesize(file, 30_000);
      const r = feed(new Uint8Array(readFileSync(file)), {}, 65536);
      expect(r.summary.rpcCalls).toBe(30_000);
      expect(r.summary.matched).toBe(30_000);
      expect(r.maxConvs).toBe(64);
      // 16 calls in flight per connection, plus the calls of one chunk.
      expect(r.maxPending).toBeLessThanOrEqual(64 * 16 + 600);
      expect(r.before.pendingCalls).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('idle conversations are dropped and their unanswered calls emitted', () => {
    const bytes = loadCapture('lab__nlm-conflict.pcap');
    const keep = feed(bytes, {});
    const idle = feed(bytes, { idleSeconds: 1 });
    expect(idle.before.conversations).toBeLessThan(keep.before.conversations);
    // Same RPCs either way (eviction only happens after the conversation went quiet).
    const key = (d: RpcData): string => `${d.callFrame}/${d.xid}/${d.status}`;
    expect(idle.rpcs.map(key).sort()).toEqual(keep.rpcs.map(key).sort());
  });
});
