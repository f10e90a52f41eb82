/**
 * Decode command output to text. Remote tools print whatever bytes they like (a latin-1 file name in strace,
 * a corrupted log): decode as UTF-8 with U+FFFD for each invalid sequence (WHATWG "replacement" error mode, the
 * same maximal-subpart rule TextDecoder applies) and count them so the caller can say the text was repaired.
 */
export function decodeTextBytes(bytes: Uint8Array): { text: string; replaced: number } {
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(bytes);
  if (!text.includes('\uFFFD')) return { text, replaced: 0 };
  // Count replacements that were not already present as a literal U+FFFD (EF BF BD) in the input.
  let literal = 0;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) {
      literal++;
      i += 2;
    }
  }
  let total = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) total++;
  return { text, replaced: total - literal };
}
