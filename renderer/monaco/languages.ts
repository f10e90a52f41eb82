import type * as Monaco from 'monaco-editor';

/**
 * Monarch grammars for the two text artifacts people read most: dmesg and strace.
 * Token names reuse Monaco's built-in theme classes (keyword, number, string, comment, type, invalid) so both
 * light and dark themes colour them without a custom theme.
 */

// dmesg: "[  927.519245] nfs: server filer not responding, still trying", `-T` "[Mon May  1 12:00:00 2024]",
// `-x` "kern  :warn  : [ ...]", and the "<4>[ ...]" priority prefix of raw /dev/kmsg reads (util-linux dmesg -r).
export const dmesgLanguage: Monaco.languages.IMonarchLanguage = {
  ignoreCase: false,
  tokenizer: {
    root: [
      [/^<\d+>/, 'type'],
      [/^[a-z]+\s*:[a-z]+\s*:/, 'type'],
      [/\[\s*\d+\.\d+\]/, 'number'],
      [/\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}\]/, 'number'],
      [/^\d{4}-\d{2}-\d{2}T[\d:.,]+[+-]\d{2}:?\d{2}/, 'number'],
      [/\b(?:BUG|Oops|Call Trace|INFO|WARNING|RIP|Kernel panic|blocked for more than \d+ seconds)\b:?/, 'invalid'],
      [/\b(?:not responding|timed out|error|failed|denied|refused|hung|stuck)\b/i, 'invalid'],
      [/\b(?:OK|ok|succeeded|recovered)\b/, 'string'],
      [/\b(?:nfs|nfsd|lockd|statd|NFS|RPC|rpc|sunrpc|NLM|nlm)\w*:/, 'keyword'],
      [/\b[a-z_][\w.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/, 'string'],
      [/\b0x[0-9a-fA-F]+\b/, 'number'],
      [/\bpid:?\s*\d+/, 'type'],
    ],
  },
};

// strace: "[pid  1234] 12:00:00.123456 flock(11, LOCK_EX <unfinished ...>", "... flock resumed> ) = 0 <0.5>",
// "--- SIGALRM {...} ---", "+++ exited with 0 +++", errors "= -1 EAGAIN (Resource temporarily unavailable)".
export const straceLanguage: Monaco.languages.IMonarchLanguage = {
  tokenizer: {
    root: [
      [/^\[pid\s+\d+\]/, 'type'],
      [/^\d+\s/, 'type'],
      [/\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b/, 'number'],
      [/^\d{9,}\.\d+/, 'number'],
      [/<unfinished \.\.\.>|<\.\.\. [\w]+ resumed>/, 'comment'],
      [/^(?:---|\+\+\+).*$/, 'keyword'],
      [/= -1 [A-Z][A-Z0-9_]+(?: \([^)]*\))?/, 'invalid'],
      [/= \?/, 'invalid'],
      [/<\d+\.\d+>$/, 'number'],
      [/\b[a-z_][a-z0-9_]*(?=\()/, 'keyword'],
      [/"(?:[^"\\]|\\.)*"(?:\.\.\.)?/, 'string'],
      [/\b[A-Z][A-Z0-9_]{2,}\b/, 'type'],
      [/\b0x[0-9a-fA-F]+\b/, 'number'],
      [/\b-?\d+\b/, 'number'],
    ],
  },
};

/** Monaco language id for an artifact kind. Unknown kinds are plain text. */
export function languageFor(kind: string): string {
  if (kind === 'dmesg' || kind === 'kmsg' || kind === 'journal' || kind === 'syslog') return 'casefile-dmesg';
  if (kind === 'strace') return 'casefile-strace';
  return 'plaintext';
}

export function registerLanguages(monaco: typeof Monaco): void {
  for (const [id, def] of [
    ['casefile-dmesg', dmesgLanguage],
    ['casefile-strace', straceLanguage],
  ] as const) {
    if (!monaco.languages.getLanguages().some((l) => l.id === id)) {
      monaco.languages.register({ id });
      monaco.languages.setMonarchTokensProvider(id, def);
    }
  }
}
