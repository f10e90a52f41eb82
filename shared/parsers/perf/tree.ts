/**
 * Call-graph trees under one perf entry, in the two text layouts perf prints:
 *
 * - "graph" (`perf report --stdio`, tools/perf/ui/stdio/hist.c callchain__fprintf_graph): a straight chain is
 *   printed as lines at one column under `---first`, a branch as `|--12.34%--name` (` --12.34%--name` for the last
 *   one) at the column of its parent. Depth is the column where the name starts.
 * - "fold" (the TUI browser printed to a file / copied from `perf top`, tools/perf/ui/browsers/hist.c): every level
 *   is indented by 3 (LEVEL_OFFSET_STEP) and starts with a fold sign `-`/`+`; a node without children prints two
 *   spaces instead of "sign + space", so its level is its text column minus 2.
 */

export interface PerfPath {
  /** Percentage of the deepest node that states one (perf prints it on branch points and leaves). */
  readonly pct?: number | undefined;
  readonly chain: readonly string[];
}

interface Node {
  readonly name: string;
  readonly pct: number | undefined;
  readonly col: number;
  readonly children: Node[];
}

/** Limits so a pathological input cannot grow a tree without bound. */
export const MAX_NODES = 20_000;
export const MAX_PATHS = 64;
const MAX_DEPTH = 512;

// All patterns run on right-trimmed lines and end in a greedy `(\S[\s\S]*)$`: no lazy group before `\s*$` (quadratic
// on long runs of blanks), and no `.` before `$`, which cannot cross a stray "\r" and then fails at every start
// position of an unanchored pattern (quadratic; found by test/fuzz on a CR-only file).
const FOLD = /^( *)([-+]) +(?:(\d{1,3}(?:\.\d+)?)% +)?(\S[\s\S]*)$/;
const FOLD_LEAF = /^( *)(\d{1,3}(?:\.\d+)?)% +(\S[\s\S]*)$/;
const FOLD_PLAIN = /^( +)([^\s|%-][^\s%]*(?: \(inlined\))?)$/;
const GRAPH_BRANCH = /--(\d{1,3}(?:\.\d+)?)%--(\S[\s\S]*)$/;
// "---name" (current perf) or "--- name" (older perf, as in Documentation/callchain-overhead-calculation.txt).
const GRAPH_START = /--- ?(\S[\s\S]*)$/;
const GRAPH_PLAIN = /^([ |]+)([^\s|][\s\S]*)$/;

export type TreeStyle = 'graph' | 'fold';

/** Does this line belong to a call graph (either layout)? Decides the style when a tree starts. */
/** Call-graph lines are short; even long C++ symbols stay far below this. */
const MAX_CHAIN_LINE = 8192;

export function chainLineStyle(text: string): TreeStyle | undefined {
  if (text.length > MAX_CHAIN_LINE) return undefined;
  const line = text.trimEnd();
  if (/^\s*\|/.test(line) || GRAPH_BRANCH.test(line) || /^\s*--- ?\S/.test(line)) return 'graph';
  if (FOLD.test(line) || FOLD_LEAF.test(line)) return 'fold';
  return undefined;
}

export class CallTree {
  private readonly roots: Node[] = [];
  private readonly stack: Node[] = [];
  private nodes = 0;
  /** Lines that looked like chain lines but could not be placed (over the limits). */
  dropped = 0;

  constructor(readonly style: TreeStyle) {}

  get size(): number {
    return this.nodes;
  }

  /** Feed one line; false when the line is not a call-graph line of this tree's style. */
  add(text: string): boolean {
    if (text.length > MAX_CHAIN_LINE) return false;
    const line = text.trimEnd();
    return this.style === 'graph' ? this.addGraph(line) : this.addFold(line);
  }

  private addFold(line: string): boolean {
    let m = FOLD.exec(line);
    if (m) {
      this.place(m[4], m[3] !== undefined ? Number(m[3]) : undefined, m[1].length, 'fold');
      return true;
    }
    m = FOLD_LEAF.exec(line);
    if (m) {
      this.place(m[3], Number(m[2]), Math.max(0, m[1].length - 2), 'fold');
      return true;
    }
    // A leaf without percentage: only a single token, so prose after the tree is not taken for a frame.
    m = FOLD_PLAIN.exec(line);
    if (m && this.stack.length > 0) {
      this.place(m[2], undefined, Math.max(0, m[1].length - 2), 'fold');
      return true;
    }
    return false;
  }

  private addGraph(line: string): boolean {
    if (/^[\s|]*$/.test(line)) return true; // spacer lines ("|", blank inside the graph)
    const b = GRAPH_BRANCH.exec(line);
    if (b) {
      // The name starts right after "--<pct>%--".
      this.place(b[2], Number(b[1]), b.index + b[1].length + 5, 'graph');
      return true;
    }
    const s = GRAPH_START.exec(line);
    if (s) {
      this.place(s[1], undefined, s.index + s[0].length - s[1].length, 'graph');
      return true;
    }
    const p = GRAPH_PLAIN.exec(line);
    const top = this.stack[this.stack.length - 1];
    if (p && top) {
      const col = p[1].length;
      // Names may hold blanks (C++ signatures, "foo (inlined)"), but prose after the graph must not become a frame:
      // accept a blank only inside the "|" rails or exactly under the chain above.
      if (!/\s/.test(p[2]) || / \(inlined\)$/.test(p[2]) || p[1].includes('|') || col === top.col) {
        this.place(p[2], undefined, col, 'graph-chain');
        return true;
      }
    }
    return false;
  }

  private place(name: string, pct: number | undefined, col: number, how: 'fold' | 'graph' | 'graph-chain'): void {
    if (this.nodes >= MAX_NODES) {
      this.dropped++;
      return;
    }
    // fold and graph branches: the parent is the nearest open node left of this one.
    // graph chain lines: a line at the same column is the callee of the line above it.
    if (how === 'graph-chain') while (this.stack.length > 0 && this.stack[this.stack.length - 1].col > col) this.stack.pop();
    else while (this.stack.length > 0 && this.stack[this.stack.length - 1].col >= col) this.stack.pop();
    if (this.stack.length >= MAX_DEPTH) {
      this.dropped++;
      return;
    }
    const node: Node = { name, pct: pct !== undefined && Number.isFinite(pct) ? pct : undefined, col, children: [] };
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(node);
    else this.roots.push(node);
    this.stack.push(node);
    this.nodes++;
  }

  /** Root-to-leaf paths in print order (perf sorts siblings by weight, so the first is the heaviest). */
  paths(): PerfPath[] {
    const out: PerfPath[] = [];
    const chain: string[] = [];
    // Iterative DFS: a deep tree must not overflow the JS stack.
    const work: { node: Node; depth: number; pct: number | undefined }[] = [];
    for (let i = this.roots.length - 1; i >= 0; i--) work.push({ node: this.roots[i], depth: 0, pct: undefined });
    while (work.length > 0 && out.length < MAX_PATHS) {
      const w = work.pop()!;
      chain.length = w.depth;
      chain.push(w.node.name);
      const pct = w.node.pct ?? w.pct;
      if (w.node.children.length === 0) {
        out.push({ pct, chain: chain.slice() });
        continue;
      }
      for (let i = w.node.children.length - 1; i >= 0; i--) work.push({ node: w.node.children[i], depth: w.depth + 1, pct });
    }
    return out;
  }
}
