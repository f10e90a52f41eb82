/**
 * Every string that comes from an artifact is hostile. React already escapes markup; this makes control
 * characters visible too, so ANSI escapes (ESC [ 31 m), bells or a carriage return that would hide the start
 * of a line cannot change what a reader sees. C0 controls map to the Unicode "control pictures" block
 * (U+2400 + code, so ESC shows as ␛), DEL to ␡; tab stays a tab.
 */
export function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    // C1 controls and bidi overrides (which can reorder what a line appears to say): show the code point.
    return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
}

/** Clip to n characters with an ellipsis (labels on the timeline). */
export function clip(text: string, n: number): string {
  return text.length <= n ? text : `${text.slice(0, Math.max(0, n - 1))}…`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** `visible` per line, keeping the line breaks themselves (for <pre> blocks of output). */
export function visibleLines(text: string): string {
  return text.split('\n').map(visible).join('\n');
}
