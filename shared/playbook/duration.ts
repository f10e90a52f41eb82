/**
 * Durations in playbooks are short literals ("500ms", "30s", "2m", "1h"): one integer and one unit, so a
 * reader sees the exact deadline and a template can render it for coreutils `timeout`/`sleep` (which take
 * s/m/h suffixes) or as plain seconds for `flock -w`.
 */
export const DURATION_PATTERN = '^[0-9]{1,6}(ms|s|m|h)$';
const DURATION_RE = new RegExp(DURATION_PATTERN);

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration literal, or undefined when the text is not one. */
export function parseDurationMs(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2]!] ?? 0);
}

/** Seconds as a decimal string without exponent ("20", "0.5"), the form `flock -w` and `sleep` accept. */
export function durationSecondsText(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const rest = ms % 1000;
  if (rest === 0) return String(whole);
  return `${whole}.${String(rest).padStart(3, '0').replace(/0+$/, '')}`;
}
