import type { ParsedEvent } from '../../model/event';
import type { LineParser } from '../types';

/** Longest line a parser looks at with regular expressions; longer lines are cut (and said so). */
export const MAX_LINE = 64 * 1024;

/** Split on \n, dropping a trailing \r (CRLF files), without building a copy per line beyond the slice. */
export function forEachLine(text: string, fn: (line: string, lineNo: number) => void): void {
  let start = 0;
  let no = 1;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    fn(text.slice(start, stop), no);
    no++;
    start = end + 1;
  }
}

export function noteEvent(line: number | undefined, text: string, data: Record<string, unknown> = {}): ParsedEvent {
  return { kind: 'note', clock: 'none', line, text, data };
}

/** Wrap a LineParser so that an exception on one line becomes a note instead of escaping. */
export function guarded(p: LineParser, emit: (e: ParsedEvent) => void): LineParser {
  return {
    line(text, lineNo) {
      try {
        p.line(text.length > MAX_LINE ? text.slice(0, MAX_LINE) : text, lineNo);
        if (text.length > MAX_LINE) emit(noteEvent(lineNo, `line ${lineNo} cut to ${MAX_LINE} characters (was ${text.length})`, { truncated: true }));
      } catch (err) {
        emit(noteEvent(lineNo, `parser error on line ${lineNo}: ${err instanceof Error ? err.message : String(err)}`, { error: true }));
      }
    },
    end() {
      try {
        p.end();
      } catch (err) {
        emit(noteEvent(undefined, `parser error at end of input: ${err instanceof Error ? err.message : String(err)}`, { error: true }));
      }
    },
  };
}
