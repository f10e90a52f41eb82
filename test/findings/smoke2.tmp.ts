import { readFileSync } from 'node:fs';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
const { events } = decodeCaptureBytes(new Uint8Array(readFileSync('/work/shared/fixtures/lab/pcap/nlm-conflict.pcap')));
for (const e of events) if (e.kind !== 'rpc') console.log(e.kind, e.ts, e.text, JSON.stringify(e.data).slice(0, 300));
