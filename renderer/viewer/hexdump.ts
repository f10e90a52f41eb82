/** `xxd`-style dump of a hex string: offset, 16 bytes in pairs, printable ASCII (anything else as '.'). */
export function hexdump(hex: string, maxBytes = 4096): string {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  const n = Math.min(Math.floor(clean.length / 2), maxBytes);
  const lines: string[] = [];
  for (let off = 0; off < n; off += 16) {
    const bytes: number[] = [];
    for (let i = off; i < Math.min(off + 16, n); i++) bytes.push(parseInt(clean.slice(i * 2, i * 2 + 2), 16));
    const hexPart = bytes
      .map((b, i) => b.toString(16).padStart(2, '0') + (i % 2 === 1 ? ' ' : ''))
      .join('')
      .padEnd(40, ' ');
    const ascii = bytes.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}: ${hexPart} ${ascii}`);
  }
  if (Math.floor(clean.length / 2) > n) lines.push(`… ${Math.floor(clean.length / 2) - n} more bytes`);
  return lines.join('\n');
}
