import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCaptureDecoder, decodeCaptureBytes } from '../../shared/capture/decoder';
import { SrtAccumulator } from '../../shared/capture/srt';
import type { RpcData } from '../../shared/rpc/types';
import { GSS_EXCHANGES, NFS_FH, gssCapture } from './gssfile';
import { frames, writePcap } from './pcapfile';

/**
 * RPCSEC_GSS (RFC 2203): context INIT and DESTROY, NFSv3 under krb5 / krb5i / krb5p, and a call rejected with
 * RPCSEC_GSS_CTXPROBLEM. The capture is built byte by byte (gssfile.ts says why); tshark reads the same file as
 * the independent reference, field by field.
 */
const dir = mkdtempSync(join(tmpdir(), 'cf-gss-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = gssCapture();
const rpc = (): RpcData[] => decodeCaptureBytes(bytes).events.filter((e) => e.kind === 'rpc').map((e) => e.data as unknown as RpcData);

describe('RPCSEC_GSS', () => {
  it('reads each exchange: the GSS procedure, service and sequence number, and what the service lets through', () => {
    const r = decodeCaptureBytes(bytes);
    expect(r.summary.warnings).toEqual([]);
    expect(r.summary.matched).toBe(GSS_EXCHANGES.length);
    const evs = rpc();
    expect(evs.map((e) => e.xid)).toEqual(GSS_EXCHANGES.map((x) => x.xid));
    for (const [i, x] of GSS_EXCHANGES.entries()) {
      const e = evs[i]!;
      expect(e.cred, x.what).toMatchObject({ flavor: 'RPCSEC_GSS', gssProc: x.gssProc, gssService: x.service, gssSeq: x.seq });
    }
    const [init, krb5, krb5i, krb5p, destroy, stale] = evs as [RpcData, RpcData, RpcData, RpcData, RpcData, RpcData];
    // Control procedures carry tokens, not NFS arguments.
    expect(init.procedure).toBe('NULL');
    expect(init.detail).toMatchObject({ gss: 'INIT' });
    expect(destroy.detail).toMatchObject({ gss: 'DESTROY' });
    // krb5 and krb5i: the file handle and the NFS status are read (through the integrity wrapper's seq_num).
    const fh = Buffer.from(NFS_FH).toString('hex');
    for (const e of [krb5, krb5i]) {
      expect(e.procedure).toBe('GETATTR');
      expect(e.status).toBe('NFS3_OK');
      expect(e.detail).toMatchObject({ fh });
    }
    // krb5p: the arguments and results are encrypted: the call is known, its NFS outcome is not.
    expect(krb5p.procedure).toBe('GETATTR');
    expect(krb5p.detail).toMatchObject({ encrypted: true });
    expect(krb5p.detail).not.toHaveProperty('fh');
    expect(krb5p.statusCode).toBeUndefined();
    // The RPC layer accepted it; the text says the outcome of the NFS call itself cannot be seen.
    const krb5pText = r.events.find((e) => (e.data as unknown as RpcData).xid === krb5p.xid)!.text;
    expect(krb5pText).toBe('NFSv3 GETATTR -> SUCCESS (RPCSEC_GSS privacy: arguments and results encrypted)');
    expect(r.events.find((e) => (e.data as unknown as RpcData).xid === krb5i.xid)!.text).toBe('NFSv3 GETATTR -> NFS3_OK');
    // A destroyed (or expired) context: the server refuses the call at the RPC layer.
    expect(stale.status).toBe('AUTH_ERROR');
    expect(stale.detail).toMatchObject({ authStat: 'RPCSEC_GSS_CTXPROBLEM' });
  });

  it('agrees with tshark on every message', () => {
    if (!existsSync('/usr/bin/tshark')) return expect.fail('tshark is required (apt-get install tshark)');
    const file = join(dir, 'gss.pcap');
    writeFileSync(file, bytes);
    const out = execFileSync(
      'tshark',
      ['-n', '-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'rpc.xid', '-e', 'rpc.msgtyp', '-e', 'rpc.procedure', '-e', 'rpc.authgss.procedure', '-e', 'rpc.authgss.service', '-e', 'rpc.authgss.seqnum', '-e', 'nfs.status', '-e', 'rpc.state_auth'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const rows = out.trim().split('\n').map((l) => l.split('|'));
    expect(rows.length).toBe(2 * GSS_EXCHANGES.length);
    const gssProcs = ['DATA', 'INIT', 'CONTINUE_INIT', 'DESTROY'];
    const services = ['', 'none', 'integrity', 'privacy'];
    const evs = rpc();
    for (const [i, e] of evs.entries()) {
      const [xid, , proc, gssProc, service, seq] = rows[2 * i]!;
      const [rxid, rtype, , , , , nfsStatus, authState] = rows[2 * i + 1]!;
      expect(Number(xid)).toBe(e.xid);
      expect(Number(rxid)).toBe(e.xid);
      expect(rtype).toBe('1');
      expect(Number(proc)).toBe(e.procedureNumber);
      expect(gssProcs[Number(gssProc)]).toBe(e.cred?.gssProc);
      expect(services[Number(service)]).toBe(e.cred?.gssService);
      // tshark repeats the integrity wrapper's seq_num beside the credential's ("2,2").
      expect(Number(seq.split(',')[0])).toBe(e.cred?.gssSeq);
      // NFS status: tshark reads it where we do (krb5, krb5i), and neither of us can under krb5p.
      expect(nfsStatus === '' ? undefined : Number(nfsStatus), `xid ${e.xid}`).toBe(e.statusCode);
      expect(authState === '' ? undefined : Number(authState)).toBe(e.detail.authStat === undefined ? undefined : 14);
    }
  });

  it('times the five executed calls in the service-time table, as tshark does', () => {
    const srt = new SrtAccumulator();
    const dec = createCaptureDecoder({ rpcEvents: false, answered: srt.answered }, () => undefined);
    dec.push(bytes);
    dec.end();
    const rows = srt.stats().procedures.filter((p) => p.programNumber === 100003);
    // AUTH_ERROR was not executed: tshark's SRT leaves rejected calls out too.
    expect(rows.map((p) => [p.name, p.calls])).toEqual([['NULL', 2], ['GETATTR', 3]]);
    if (!existsSync('/usr/bin/tshark')) return expect.fail('tshark is required (apt-get install tshark)');
    const file = join(dir, 'gss-srt.pcap');
    writeFileSync(file, bytes);
    const table = execFileSync('tshark', ['-n', '-r', file, '-q', '-z', 'rpc,srt,100003,3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const theirs = [...table.matchAll(/^\s+\d+\s+(\S+)\s+(\d+)\s/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows.map((p) => [p.name, p.calls])).toEqual(theirs);
  });

  it('decodes cut and malformed GSS messages without throwing', () => {
    const fs = frames(bytes);
    for (const f of fs) {
      for (let cut = 42; cut < f.data.length; cut += 4) {
        const data = f.data.slice(0, cut);
        // The IP and UDP lengths still claim the whole message: the frame is short, as a snaplen cut makes it.
        const r = decodeCaptureBytes(writePcap([...fs.filter((g) => g !== f), { ...f, data }], 1, false, false));
        expect(r.summary.frames).toBe(fs.length);
      }
    }
    // A credential claiming RPCSEC_GSS with too few bytes for rpc_gss_cred_vers_1_t is not read as GSS.
    const first = fs[0]!.data.slice();
    new DataView(first.buffer).setUint32(42 + 28, 8); // cred length 8 (the body is now misaligned: rejected or read, never a throw)
    expect(() => decodeCaptureBytes(writePcap([{ ...fs[0]!, data: first }], 1, false, false))).not.toThrow();
  });
});
