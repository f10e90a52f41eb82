import { readFileSync } from 'node:fs';
import { parseText } from '../../shared/parsers';
import { decodeCaptureBytes } from '../../shared/capture/decoder';
import { runRules, findingsToJson } from '../../shared/findings';
const L = '/work/shared/fixtures/lab/';
for (const p of ['pcap/statd-down.pcap', 'pcap/nlm-conflict.pcap', 'pcap/v4-lock-conflict.pcap', 'pcap/basic-v3-v4.pcap', 'pcap/getattr-flood.pcap']) {
  const { events } = decodeCaptureBytes(new Uint8Array(readFileSync(L + p)));
  const f = runRules({ events: events.map((e) => ({ ...e, artifact: p })) });
  console.log(p, events.length, JSON.stringify(f.map((x) => [x.rule, x.severity, x.title])));
}
const t = parseText('rpcinfo', readFileSync(L + 'logs/statd-down-rpcinfo.txt', 'utf8'));
console.log(JSON.stringify(runRules({ events: t.events.map((e) => ({ ...e, host: 'lab-a', artifact: 'r' })) }).map((x) => [x.rule, x.severity, x.title])));
