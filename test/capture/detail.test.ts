/**
 * Decoded fields (SEQUENCE slots, CREATE_SESSION channel attributes, LOCK owners/ranges and the conflicting
 * owner of a DENIED reply, OPEN claim and delegation, NLM caller_name/svid/ranges/flags/cookie/status,
 * NSM names, callback program) checked against tshark's values for the same frames
 * (test/fixtures/tshark/*.detail.tsv, made by regen.sh).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import { NFS4_DELEG_TYPE, NFS4_OPEN_CLAIM } from '../../shared/rpc/names';
import type { RpcData } from '../../shared/rpc/types';
import { TSHARK_DIR, loadCapture } from './load';

type Row = Record<string, string>;

function readDetail(name: string): Map<number, Row> {
  const [head, ...lines] = readFileSync(join(TSHARK_DIR, `${name}.detail.tsv`), 'utf8').split('\n').filter((l) => l !== '');
  const cols = head.split('\t');
  const out = new Map<number, Row>();
  for (const l of lines) {
    const cells = l.split('\t');
    const row: Row = {};
    cols.forEach((c, i) => (row[c] = cells[i] ?? ''));
    // Frames carrying several RPC records cannot attribute fields to one record: skip them.
    if (!row['rpc.xid'].includes('|')) out.set(Number(row['frame.number']), row);
  }
  return out;
}

const first = (v: string | undefined): string => (v ?? '').split('|')[0];
const asHex = (owner: unknown): string => {
  const s = String(owner);
  return /^[0-9a-f]+$/.test(s) && s.length % 2 === 0 ? s : Buffer.from(s, 'latin1').toString('hex');
};
const invert = (t: ReadonlyMap<number, string>, name: unknown): string => String([...t].find(([, v]) => v === name)?.[0]);

type Op = Record<string, unknown> & { op: string; res?: Record<string, unknown>; status?: string };

const CAPTURES = [
  'lab__v4-lock-conflict.pcap', 'lab__nlm-conflict.pcap', 'lab__statd-down.pcap', 'linux-nfs-ml__delegation_claim.pcap',
  'nfstrace__eth-ipv4-tcp-nfsv41.pcap', 'linux-nfs-ml__netpart-reconnect.pcap', 'linux-nfs-ml__nfs_lock_smb_lock.pcap',
  'linux-nfs-ml__pnfs_failing_recall.pcap',
];

describe('decoded fields equal tshark', () => {
  for (const name of CAPTURES) {
    it(name, () => {
      const rows = readDetail(name);
      const { events } = decodeCaptureBytes(loadCapture(name));
      const checked = new Map<string, number>();
      const check = (what: string, ours: unknown, theirs: string | undefined): void => {
        expect(String(ours), `${what}`).toBe(theirs);
        checked.set(what, (checked.get(what) ?? 0) + 1);
      };
      for (const e of events) {
        if (e.kind !== 'rpc') continue;
        const d = e.data as unknown as RpcData;
        const call = d.callFrame !== undefined ? rows.get(d.callFrame) : undefined;
        const reply = d.replyFrame !== undefined ? rows.get(d.replyFrame) : undefined;
        if (call === undefined || call['rpc.msgtyp'] !== '0') continue;
        const det = d.detail as Record<string, unknown>;
        const ops = (det.ops as Op[] | undefined) ?? [];
        if (d.program === 'nfs' && d.version === 4) {
          const seq = ops[0]?.op === 'SEQUENCE' ? ops[0] : undefined;
          if (seq) {
            check('SEQUENCE slotid', seq.slotid, first(call['nfs.slotid']));
            check('SEQUENCE highest_slotid', seq.highestSlotid, first(call['nfs.high_slotid']));
            if (reply && seq.res) check('SEQUENCE target_highest_slotid', seq.res.targetHighestSlotid, first(reply['nfs.target_high_slotid']));
          }
          for (const o of ops) {
            if (o.op === 'CREATE_SESSION') {
              const fore = o.foreChannel as Record<string, number>;
              const back = o.backChannel as Record<string, number>;
              check('CREATE_SESSION ca_maxrequests', `${fore.ca_maxrequests}|${back.ca_maxrequests}`, call['nfs.maxreqs4']);
              check('CREATE_SESSION cb_program', o.cbProgram, String(Number(first(call['nfs.cb_program']))));
            }
            if ((o.op === 'LOCK' && o.newLockOwner) || o.op === 'LOCKT') check(`${o.op} owner`, asHex(o.owner), first(call['nfs.lock_owner4']));
            if (o.op === 'LOCK' || o.op === 'LOCKT' || o.op === 'LOCKU') {
              check(`${o.op} offset`, o.offset, first(call['nfs.offset4']));
              check(`${o.op} length`, o.length, first(call['nfs.length4']));
              const denied = o.res?.denied as Record<string, unknown> | undefined;
              if (denied && reply) {
                check('DENIED conflicting owner', asHex(denied.owner), first(reply['nfs.lock_owner4']));
                check('DENIED offset', denied.offset, first(reply['nfs.offset4']));
              }
            }
            if (o.op === 'OPEN') {
              check('OPEN claim', invert(NFS4_OPEN_CLAIM, o.claim), first(call['nfs.open.claim_type']));
              if (reply && o.res?.delegationType !== undefined) check('OPEN delegation type', invert(NFS4_DELEG_TYPE, o.res.delegationType), first(reply['nfs.open.delegation_type']));
            }
            if (o.op === 'SETCLIENTID') check('SETCLIENTID cb_program', o.cbProgram, String(Number(first(call['nfs.cb_program']))));
          }
        }
        if (d.program === 'nlm' && det.caller_name !== undefined) {
          check('NLM caller_name', det.caller_name, call['nlm.lock.caller_name']);
          check('NLM svid', det.svid, call['nlm.lock.svid']);
          if (d.version === 4) {
            check('NLM l_offset', det.offset, call['nlm.lock.l_offset64']);
            check('NLM l_len', det.len, call['nlm.lock.l_len64']);
          }
          check('NLM cookie', det.cookie, call['nlm.cookie']);
          for (const f of ['block', 'exclusive', 'reclaim'] as const) if (det[f] !== undefined) check(`NLM ${f}`, det[f] ? '1' : '0', call[`nlm.${f}`]);
          if (reply && d.statusCode !== undefined) check('NLM stat', d.statusCode, reply['nlm.stat']);
        }
        if (d.program === 'nsm' && det.mon_name !== undefined && (d.procedure === 'SM_MON' || d.procedure === 'SM_UNMON')) {
          check('NSM mon_name', det.mon_name, call['stat.mon_id.name']);
        }
      }
      // Each capture must have exercised something (the table proves which fields were compared).
      expect(checked.size, `fields compared in ${name}: ${JSON.stringify(Object.fromEntries(checked))}`).toBeGreaterThan(0);
    });
  }
});

describe('recognised by content, not by port', () => {
  it('NLM LOCK from privileged port 524 to lockd on 32803 (no well-known port) is decoded', () => {
    const { events } = decodeCaptureBytes(loadCapture('lab__nlm-conflict.pcap'));
    const d = events.map((e) => e.data as unknown as RpcData).find((x) => x.client?.endsWith(':524') && x.procedure === 'LOCK');
    expect(d).toMatchObject({ program: 'nlm', version: 4, status: 'NLM4_DENIED', server: '10.231.0.13:32803' });
    expect((d?.detail as Record<string, unknown>).caller_name).toBe('lab-b');
  });

  it('the NFSv4.1 callback program (0x40000000, chosen by the client) is named nfs_cb with its operations', () => {
    const { events } = decodeCaptureBytes(loadCapture('linux-nfs-ml__pnfs_failing_recall.pcap'));
    const cb = events.map((e) => e.data as unknown as RpcData).filter((x) => x.program === 'nfs_cb' && x.procedure === 'CB_COMPOUND');
    expect(cb.length).toBeGreaterThan(0);
    expect(cb[0].programNumber).toBe(0x40000000);
    expect(cb.some((x) => x.ops?.join(',') === 'CB_SEQUENCE,CB_LAYOUTRECALL' && x.status === 'NFS4ERR_NOMATCHING_LAYOUT')).toBe(true);
  });
});
