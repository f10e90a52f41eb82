/**
 * Split strace's argument text at top-level commas. strace quotes strings C-style ("a\"b"), and nests
 * structures in {}, arrays in [], and some decodings in (). A linear scan: no regular expression backtracking.
 * Unbalanced text (a truncated line) still returns what it has.
 */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inStr = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inStr) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inStr = false;
      continue;
    }
    switch (c) {
      case 34:
        inStr = true;
        break;
      case 40: // (
      case 91: // [
      case 123: // {
        depth++;
        break;
      case 41:
      case 93:
      case 125:
        if (depth > 0) depth--;
        break;
      case 44: // ,
        if (depth === 0) {
          out.push(s.slice(start, i).trim());
          start = i + 1;
        }
        break;
      default:
        break;
    }
  }
  const last = s.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

/** Index of the ')' that closes the argument list, given the index just after '(' (string- and nesting-aware). */
export function closingParen(s: string, from: number): number {
  let depth = 0;
  let inStr = false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) inStr = true;
    else if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) {
      if (depth === 0) return c === 41 ? i : -1;
      depth--;
    }
  }
  return -1;
}
