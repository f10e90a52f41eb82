/**
 * A deliberately tiny Markdown subset for playbook `why` texts, finding explanations and annotation bodies:
 * paragraphs, bullet and numbered lists, headings, fenced code, `inline code`, **bold**, *emphasis* and links.
 * It produces a tree of plain strings; the React side renders it with elements, never innerHTML, so markup in
 * the source (or in an artifact quoted into a note) is always shown as text. Links are kept only when they are
 * http(s); they are shown as text with the address in a tooltip, never followed from inside the app.
 */
export type Inline =
  | { readonly t: 'text'; readonly text: string }
  | { readonly t: 'code'; readonly text: string }
  | { readonly t: 'strong'; readonly children: readonly Inline[] }
  | { readonly t: 'em'; readonly children: readonly Inline[] }
  | { readonly t: 'link'; readonly text: string; readonly href: string };

export type Block =
  | { readonly t: 'p'; readonly children: readonly Inline[] }
  | { readonly t: 'h'; readonly level: 1 | 2 | 3; readonly children: readonly Inline[] }
  | { readonly t: 'ul'; readonly items: readonly (readonly Inline[])[] }
  | { readonly t: 'ol'; readonly start: number; readonly items: readonly (readonly Inline[])[] }
  | { readonly t: 'pre'; readonly text: string };

const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^\s{0,3}(#{1,3})\s+(.*?)\s*#*\s*$/;
const FENCE = /^\s{0,3}(```|~~~)/;

export function parseMarkdown(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const out: Block[] = [];
  let para: string[] = [];
  const flush = (): void => {
    if (para.length) out.push({ t: 'p', children: parseInline(para.join(' ')) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!)) body.push(lines[i++]!);
      out.push({ t: 'pre', text: body.join('\n') });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      flush();
      out.push({ t: 'h', level: Math.min(3, h[1]!.length) as 1 | 2 | 3, children: parseInline(h[2]!) });
      continue;
    }
    const b = BULLET.exec(line);
    const n = b ? undefined : NUMBERED.exec(line);
    if (b || n) {
      flush();
      const ordered = !!n;
      const items: Inline[][] = [];
      const start = n ? Number(n[1]) : 1;
      let cur = b ? b[1]! : n![2]!;
      for (i = i + 1; i < lines.length; i++) {
        const l = lines[i]!;
        const nb = ordered ? NUMBERED.exec(l) : BULLET.exec(l);
        if (nb) {
          items.push(parseInline(cur));
          cur = ordered ? nb[2]! : nb[1]!;
        } else if (l.trim() !== '' && /^\s+/.test(l) && !FENCE.test(l)) {
          cur += ` ${l.trim()}`; // continuation of the item
        } else break;
      }
      i--;
      items.push(parseInline(cur));
      out.push(ordered ? { t: 'ol', start, items } : { t: 'ul', items });
      continue;
    }
    para.push(line.trim());
  }
  flush();
  return out;
}

/** True for an absolute http(s) URL; everything else (javascript:, data:, relative, file:) is refused. */
export function safeHref(href: string): string | undefined {
  const h = href.trim();
  if (!/^https?:\/\//i.test(h)) return undefined;
  try {
    const u = new URL(h);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** `\s+"title")` right after a link address. */
const LINK_TITLE = /\s+"[^"]*"\)/y;
const HREF_STOP = /[)\s]/g;

export function parseInline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  // `[text](href "title")` is matched by hand with two cached look-aheads, the next "]" and the next ")" or blank
  // after it, so each "[" costs constant work: a regex per "[" rescanned the rest of the line (a run of "[" or of
  // "[a](" was quadratic: 177 KB took 16 s, found by fuzzing).
  let close = -2; // index of the next "]" at or after the last "[" seen; -1: none left
  let stop = -2; // index of the next ")" or blank at or after close + 2; src.length: none
  const closers: Closers = { '*': -2, _: -2 };
  const pushText = (): void => {
    if (text) out.push({ t: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length && /[\\`*_[\]()#+\-.!]/.test(src[i + 1]!)) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end > i) {
        pushText();
        out.push({ t: 'code', text: src.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (src.startsWith('**', i)) {
      const end = src.indexOf('**', i + 2);
      if (end > i + 2) {
        pushText();
        out.push({ t: 'strong', children: parseInline(src.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if ((c === '*' || c === '_') && opensEmphasis(src, i)) {
      const end = closingEmphasis(src, i, closers);
      if (end !== undefined) {
        pushText();
        out.push({ t: 'em', children: parseInline(src.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (c === '[') {
      if (close !== -1 && close < i) close = src.indexOf(']', i);
      let m: [string, string, string] | undefined;
      if (close !== -1 && src[close + 1] === '(') {
        if (stop < close + 2) {
          HREF_STOP.lastIndex = close + 2;
          stop = HREF_STOP.exec(src)?.index ?? src.length;
        }
        let end = -1;
        if (src[stop] === ')') end = stop + 1;
        else if (stop < src.length) {
          LINK_TITLE.lastIndex = stop;
          if (LINK_TITLE.exec(src)) end = LINK_TITLE.lastIndex;
        }
        if (end > 0) m = [src.slice(i, end), src.slice(i + 1, close), src.slice(close + 2, stop)];
      }
      if (m) {
        const href = safeHref(m[2]!);
        if (href) {
          pushText();
          out.push({ t: 'link', text: m[1] || href, href });
        } else {
          // Not a link we allow: keep the whole source visible as text, so the reader sees what it was.
          text += m[0];
        }
        i += m[0].length;
        continue;
      }
    }
    text += c;
    i++;
  }
  pushText();
  return out;
}

const WORD = /[\p{L}\p{N}_]/u;

/**
 * CommonMark's intraword rule for `_`: snake_case names and `__pwned` stay literal; `*` may open anywhere
 * that is not followed by a space or a second `*`.
 */
function opensEmphasis(src: string, i: number): boolean {
  const c = src[i]!;
  const next = src[i + 1];
  if (next === undefined || next === ' ' || next === c) return false;
  if (c === '_' && i > 0 && WORD.test(src[i - 1]!)) return false;
  return true;
}

/**
 * The next closer of `*` or `_` found so far in one parseInline call (-2: not looked yet, -1: none left). Whether
 * a position closes does not depend on the opener, and openers are met left to right, so a closer found for an
 * earlier opener answers every later one until it is passed: a run of openers with no closer (`*a *a *a …`)
 * costs linear time instead of a rescan per opener (240 KB took 23 s).
 */
type Closers = { '*': number; _: number };

function closingEmphasis(src: string, i: number, cache: Closers): number | undefined {
  const c = src[i] as '*' | '_';
  const from = i + 2;
  const known = cache[c];
  if (known === -1) return undefined;
  if (known >= from) return known;
  let found = -1;
  for (let j = src.indexOf(c, from); j > 0; j = src.indexOf(c, j + 1)) {
    if (src[j - 1] === ' ' || src[j + 1] === c) continue;
    if (c === '_' && j + 1 < src.length && WORD.test(src[j + 1]!)) continue;
    found = j;
    break;
  }
  cache[c] = found;
  return found === -1 ? undefined : found;
}

/** Plain text of a tree (for titles, tests and search previews). */
export function inlineText(nodes: readonly Inline[]): string {
  return nodes
    .map((n) => {
      switch (n.t) {
        case 'text':
        case 'code':
          return n.text;
        case 'strong':
        case 'em':
          return inlineText(n.children);
        case 'link':
          return n.text;
        default: {
          const never: never = n;
          return never;
        }
      }
    })
    .join('');
}
