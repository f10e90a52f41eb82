/**
 * Placeholders in run templates: `{{name}}` or `{{name.seconds}}` (durations). This module finds them and,
 * for shell scripts, proves each one sits where a single-quoted word is inert: outside any quotes,
 * backquotes, comments and here-documents, and not the script argument of `sh -c` or `eval` (where the
 * value would be parsed as shell again). The rules follow the POSIX Shell Command Language §2.2 (quoting)
 * and §2.6.3 (command substitution: backquoted text is re-scanned, so a quoted value can end it early).
 */

export interface Placeholder {
  readonly name: string;
  readonly accessor: 'value' | 'seconds';
  /** Offset of `{{` in the template. */
  readonly start: number;
  readonly end: number;
}

export interface TemplateProblem {
  readonly offset: number;
  readonly message: string;
}

const PLACEHOLDER_RE = /\{\{\s*([a-z][a-z0-9_]*)(?:\.(seconds))?\s*\}\}/g;

/** All placeholders, plus problems for `{{`/`}}` that do not form one. */
export function findPlaceholders(template: string): { placeholders: Placeholder[]; problems: TemplateProblem[] } {
  const placeholders: Placeholder[] = [];
  const problems: TemplateProblem[] = [];
  PLACEHOLDER_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  const covered: Array<[number, number]> = [];
  while ((m = PLACEHOLDER_RE.exec(template)) !== null) {
    placeholders.push({ name: m[1]!, accessor: m[2] === 'seconds' ? 'seconds' : 'value', start: m.index, end: m.index + m[0].length });
    covered.push([m.index, m.index + m[0].length]);
  }
  // `covered` is sorted and the offsets asked about only grow, so one cursor per scan answers "inside a placeholder?"
  // (a scan of every range per "{{" was quadratic in the number of placeholders).
  const insideFrom = (): ((i: number) => boolean) => {
    let k = 0;
    return (i) => {
      while (k < covered.length && covered[k]![1] <= i) k++;
      return k < covered.length && covered[k]![0] <= i;
    };
  };
  const insideOpen = insideFrom();
  for (let i = template.indexOf('{{'); i >= 0; i = template.indexOf('{{', i + 1)) {
    if (!insideOpen(i)) problems.push({ offset: i, message: 'malformed placeholder: expected {{name}} or {{name.seconds}}' });
  }
  const insideClose = insideFrom();
  for (let i = template.indexOf('}}'); i >= 0; i = template.indexOf('}}', i + 1)) {
    if (!insideClose(i - 1) && !insideClose(i)) problems.push({ offset: i, message: 'stray "}}" outside a placeholder' });
  }
  return { placeholders, problems };
}

type LexState = 'plain' | 'single' | 'double' | 'backquote' | 'comment';

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'ksh', 'zsh', 'busybox', '/bin/sh', '/bin/bash', '/usr/bin/bash', '/bin/dash']);

/**
 * Check that every placeholder of a shell template is in plain (unquoted) context. Returns problems; an
 * empty list means each placeholder can be replaced by one single-quoted word without changing how the
 * rest of the script is parsed.
 */
export function checkScriptTemplate(template: string): TemplateProblem[] {
  const { placeholders, problems } = findPlaceholders(template);
  const out: TemplateProblem[] = [...problems];
  if (placeholders.length === 0) return out;
  if (/<</.test(template)) {
    out.push({ offset: template.indexOf('<<'), message: 'here-documents expand $(...) inside their body: a template with placeholders cannot use <<' });
  }
  const at = new Map<number, Placeholder>();
  for (const p of placeholders) at.set(p.start, p);

  let state: LexState = 'plain';
  let word = '';
  const words: string[] = []; // words of the current simple command, for the `sh -c` / `eval` checks
  // How many of `words` are a shell name / `eval`: counted as words end, so a command line of thousands of words
  // and placeholders is not rescanned at every placeholder (that was quadratic: 1.2 MB took 1.5 s, found by fuzzing).
  let shellWords = 0;
  let evalWords = 0;
  const endCommand = (): void => {
    words.length = 0;
    shellWords = 0;
    evalWords = 0;
  };
  let i = 0;
  const endWord = (): void => {
    if (word.length > 0) {
      words.push(word);
      if (SHELLS.has(word)) shellWords++;
      if (word === 'eval') evalWords++;
    }
    word = '';
  };
  while (i < template.length) {
    const p = at.get(i);
    if (p) {
      if (state !== 'plain') {
        const where = state === 'single' ? "inside '...'" : state === 'double' ? 'inside "..."' : state === 'backquote' ? 'inside `...`' : 'inside a # comment';
        out.push({ offset: i, message: `placeholder {{${p.name}}} is ${where}; put it outside quotes (it is quoted for you)` });
      } else {
        const prev = word.length > 0 ? undefined : words[words.length - 1];
        const cmd = words[0];
        if (prev === '-c' && cmd !== undefined && (SHELLS.has(cmd) || shellWords > 0)) {
          out.push({ offset: i, message: `placeholder {{${p.name}}} is the script of "${cmd} -c": it would be run as shell code` });
        }
        if (evalWords > 0 || word === 'eval') {
          out.push({ offset: i, message: `placeholder {{${p.name}}} is an argument of eval: it would be run as shell code` });
        }
        word += '\u0000'; // stands for the quoted value: part of the current word
      }
      i = p.end;
      continue;
    }
    const c = template[i]!;
    switch (state) {
      case 'plain':
        if (c === '\\') {
          word += template.slice(i, i + 2);
          i += 2;
          continue;
        }
        if (c === "'") state = 'single';
        else if (c === '"') state = 'double';
        else if (c === '`') state = 'backquote';
        else if (c === '#' && word.length === 0) state = 'comment';
        else if (c === ' ' || c === '\t') endWord();
        else if (c === '\n' || c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
          endWord();
          endCommand();
        } else word += c;
        break;
      case 'single':
        if (c === "'") state = 'plain';
        break;
      case 'double':
        if (c === '\\') {
          i += 2;
          continue;
        }
        if (c === '"') state = 'plain';
        break;
      case 'backquote':
        if (c === '\\') {
          i += 2;
          continue;
        }
        if (c === '`') state = 'plain';
        break;
      case 'comment':
        if (c === '\n') {
          state = 'plain';
          endCommand();
        }
        break;
      default: {
        const never: never = state;
        throw new Error(`unreachable lexer state ${String(never)}`);
      }
    }
    i += 1;
  }
  if (state === 'single' || state === 'double' || state === 'backquote') {
    out.push({ offset: template.length, message: `unterminated ${state === 'single' ? "'" : state === 'double' ? '"' : '`'} in the script` });
  }
  return out;
}

/**
 * POSIX single quoting: everything between ' and ' is literal (§2.2.2); a ' inside the value is written as
 * '\'' (close, escaped quote, reopen). The result is always exactly one shell word.
 */
export function shellQuote(value: string): string {
  if (value.includes('\u0000')) throw new Error('NUL cannot be passed in a shell word');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quote words that need it; leave plain words (letters, digits, -_./=:,@%+) as they are for readability. */
export function shellQuoteForDisplay(value: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(value) ? value : shellQuote(value);
}

/** One command line from an argv: what the remote shell will split back into exactly these elements. */
export function shellJoin(argv: readonly string[]): string {
  // A first word with "=" would be read as a variable assignment, not the program: always quote it then.
  return argv.map((w, i) => (i === 0 && w.includes('=') ? shellQuote(w) : shellQuoteForDisplay(w))).join(' ');
}
