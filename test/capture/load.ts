/** Fixture loading for the capture tests (gunzip by content, as the Node reader does). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const PCAP_DIR = join(import.meta.dirname, '..', 'fixtures', 'pcaps');
export const TSHARK_DIR = join(import.meta.dirname, '..', 'fixtures', 'tshark');

export function captureNames(): string[] {
  return readdirSync(PCAP_DIR).filter((f) => !f.endsWith('.md')).sort();
}

export function loadCapture(name: string): Uint8Array {
  const raw = readFileSync(join(PCAP_DIR, name));
  const b = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
