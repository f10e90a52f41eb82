import type { LineParser } from '../../shared/parsers/types';

/** Longest line handed to a parser; longer runs are cut (and the cut is reported), never buffered without bound. */
export const MAX_LINE = 1 << 20;

/**
 * Split decoded text into lines for a parser, across chunk boundaries: "\n" ends a line, a "\r" before it is
 * dropped (CRLF files), a last line without "\n" is still a line. Used the same way inline and in the parse
 * worker, so both give the same events.
 */
export class LineFeeder {
  private carry = '';
  private lineNo = 0;
  /** Lines longer than MAX_LINE that were cut. */
  cut = 0;

  constructor(private readonly parser: LineParser) {}

  push(s: string): void {
    this.feed(s, false);
  }

  end(tail: string): void {
    this.feed(tail, true);
    this.parser.end();
  }

  private feed(s: string, final: boolean): void {
    const text = this.carry === '' ? s : this.carry + s;
    const parser = this.parser;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      const stop = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      parser.line(text.slice(start, stop), ++this.lineNo);
      start = nl + 1;
    }
    let rest = text.slice(start);
    if (rest.length > MAX_LINE) {
      this.cut++;
      parser.line(rest.slice(0, MAX_LINE), ++this.lineNo);
      rest = '';
    }
    if (final && rest.length > 0) parser.line(rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++this.lineNo);
    this.carry = final ? '' : rest;
  }
}
