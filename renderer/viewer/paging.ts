/**
 * Line numbering of a page returned by artifacts.read. Text artifacts come back as contiguous lines starting
 * at `fromLine`. Captures come back as one decoded line per RPC event, "#<frame> <summary>", numbered by frame
 * and therefore sparse (frames that carry no RPC have no line): their numbers are read from the prefix so the
 * viewer's gutter and "go to line" speak in frame numbers.
 */
export interface PageLike {
  readonly fromLine: number;
  readonly lines: readonly string[];
}

const FRAME = /^#(\d+) /;

export class PageIndex {
  private readonly numbers: readonly number[] | undefined;

  constructor(
    private readonly page: PageLike,
    sparse: boolean,
  ) {
    if (sparse && page.lines.length > 0 && page.lines.every((l) => FRAME.test(l))) {
      this.numbers = page.lines.map((l) => Number(FRAME.exec(l)![1]));
    }
  }

  get count(): number {
    return this.page.lines.length;
  }

  /** Artifact line (or frame) number shown for the 1-based row of the page. */
  numberAt(row: number): number {
    return this.numbers ? (this.numbers[row - 1] ?? this.page.fromLine + row - 1) : this.page.fromLine + row - 1;
  }

  get first(): number {
    return this.count ? this.numberAt(1) : this.page.fromLine;
  }

  get last(): number {
    return this.count ? this.numberAt(this.count) : this.page.fromLine - 1;
  }

  /** 1-based row holding `line`, or (for sparse pages) the first row after it; undefined when outside the page. */
  rowOf(line: number): number | undefined {
    if (this.count === 0 || line < this.first || line > this.last) return undefined;
    if (!this.numbers) return line - this.page.fromLine + 1;
    let lo = 0;
    let hi = this.numbers.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.numbers[mid]! < line) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  textAt(row: number): string | undefined {
    return this.page.lines[row - 1];
  }
}
