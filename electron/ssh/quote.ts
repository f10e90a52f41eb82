/**
 * POSIX shell quoting (XCU 2.2.2 Single-Quotes): inside '...' every byte is literal except the closing
 * quote, so an embedded ' is written as '\'' (close, escaped quote, reopen). Words made only of characters
 * no shell treats specially are left bare for readable reports, as Python's shlex.quote does.
 * NUL cannot be carried in an argv element (execve takes C strings), so it is refused rather than truncated.
 */

export class ShellQuoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellQuoteError';
  }
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new ShellQuoteError('an argument contains a NUL byte, which no remote command can receive');
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Render an argv as one shell command line whose words are exactly `argv` once parsed by sh. */
export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) throw new ShellQuoteError('empty argv');
  return argv.map(quoteArg).join(' ');
}
