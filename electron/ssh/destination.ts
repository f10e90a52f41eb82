/**
 * Parsing of the destination strings a user types: `host`, `user@host`, `user@host:port`, `[v6addr]:port`,
 * and `ssh://[user@]host[:port]` (ssh(1) DESTINATION). ProxyJump lists are comma-separated lists of these
 * (ssh_config(5) ProxyJump: `[user@]host[:port]` or an ssh URI; `none` disables).
 */

export interface DestinationParts {
  /** The name to match against `Host` patterns (OpenSSH lowercases it, ssh.c `lowercase(host)`). */
  readonly host: string;
  readonly user?: string;
  readonly port?: number;
}

export class DestinationSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationSyntaxError';
  }
}

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new DestinationSyntaxError(`bad port "${text}" in destination "${whole}"`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new DestinationSyntaxError(`port ${n} out of range in destination "${whole}"`);
  return n;
}

/** Parse one destination. Throws DestinationSyntaxError on empty host, bad port or control characters. */
export function parseDestination(input: string): DestinationParts {
  const whole = input;
  let s = input.trim();
  if (s === '') throw new DestinationSyntaxError('empty destination');
  // Hostile names must never reach a shell or a log line unescaped: refuse control chars and whitespace.
  if (/[\s\x00-\x1f\x7f]/.test(s)) throw new DestinationSyntaxError(`destination "${JSON.stringify(whole)}" contains whitespace or control characters`);
  if (s.startsWith('ssh://')) {
    s = s.slice('ssh://'.length).replace(/\/$/, '');
    if (s.includes('/')) throw new DestinationSyntaxError(`ssh URI "${whole}" must not carry a path`);
  }
  let user: string | undefined;
  // The user may itself contain '@' (e.g. an email-like login): the last '@' separates it, as in ssh.c.
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
    if (user === '') throw new DestinationSyntaxError(`empty user in destination "${whole}"`);
  }
  let host: string;
  let port: number | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new DestinationSyntaxError(`missing "]" in destination "${whole}"`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new DestinationSyntaxError(`unexpected "${rest}" after "]" in destination "${whole}"`);
      port = parsePort(rest.slice(1), whole);
    }
  } else {
    const colons = s.split(':').length - 1;
    if (colons === 1) {
      const c = s.indexOf(':');
      host = s.slice(0, c);
      port = parsePort(s.slice(c + 1), whole);
    } else {
      // Zero colons: plain host. Several: a bare IPv6 address without brackets (no port possible).
      host = s;
    }
  }
  if (host === '') throw new DestinationSyntaxError(`empty host in destination "${whole}"`);
  return { host: host.toLowerCase(), ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

/** Split a ProxyJump value into hops in connection order; `none` gives no hops (ssh_config(5)). */
export function parseProxyJump(value: string): readonly DestinationParts[] {
  const v = value.trim();
  if (v === '' || v.toLowerCase() === 'none') return [];
  return v.split(',').map((hop) => parseDestination(hop));
}
