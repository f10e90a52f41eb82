import { useEffect, useState, type ReactNode } from 'react';
import type { Output } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { errorText } from '../api/errors';
import { useAction } from '../util/hooks';
import { visibleLines } from '../util/text';
import { hexdump } from '../viewer/hexdump';

type Packet = Output<'artifacts.packet'>;

function download(base64: string, fileName: string): void {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/vnd.tcpdump.pcap' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The decoded RPC of the frame under the cursor, its raw bytes, and pcapng export for Wireshark. */
export function PacketPanel({ artifactId, frame }: { artifactId: number; frame: number }): ReactNode {
  const api = useApi();
  const [pkt, setPkt] = useState<Packet | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const exp = useAction();

  useEffect(() => {
    let live = true;
    api.call('artifacts.packet', { artifactId, frame }).then(
      (p) => live && (setPkt(p), setError(undefined)),
      (e: unknown) => live && (setPkt(undefined), setError(errorText(e))),
    );
    return () => {
      live = false;
    };
  }, [api, artifactId, frame]);

  const xid = typeof pkt?.data.xid === 'number' ? pkt.data.xid : undefined;
  const exportPcap = (xids?: number[]): void =>
    void exp.run(async () => {
      const r = await api.call('artifacts.exportPcap', { artifactId, xids });
      download(r.base64, r.fileName);
    });

  return (
    <section className="packet" data-testid="packet">
      <div className="row wrap">
        <strong className="grow">Frame {frame}</strong>
        <button onClick={() => exportPcap()} disabled={exp.pending} data-testid="export-pcap">
          Capture as pcapng
        </button>
        {xid !== undefined && (
          <button onClick={() => exportPcap([xid])} disabled={exp.pending} data-testid="export-pcap-xid">
            Only XID {xid}
          </button>
        )}
      </div>
      {exp.error && <p className="error">{exp.error}</p>}
      {error && <p className="muted small">{error}</p>}
      {pkt && (
        <div className="split">
          <pre className="small" data-testid="packet-decoded">
            {visibleLines(`${pkt.role} · ${pkt.length} bytes${pkt.note ? ` · ${pkt.note}` : ''}\n${pkt.text}\n\n${JSON.stringify(pkt.data, null, 2)}`)}
          </pre>
          <pre className="small hex" data-testid="packet-hex">
            {hexdump(pkt.hex)}
          </pre>
        </div>
      )}
    </section>
  );
}
