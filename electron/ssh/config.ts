/**
 * Resolve an SSH destination the way OpenSSH does (ssh_config(5), readconf.c), so a host that works with
 * `ssh ALIAS` works here unchanged:
 * - files: ~/.ssh/config, then /etc/ssh/ssh_config (skipped when an explicit config path is given, like `ssh -F`);
 * - `Host` pattern-lists matched against the name typed (lowercased, as ssh.c does), `*`/`?` wildcards,
 *   `!` negation (a matching negated pattern rejects the whole line, readconf.c match_pattern_list);
 * - first obtained value wins, except IdentityFile which accumulates (what `ssh -G` prints);
 * - `Include` with globs, relative paths taken from ~/.ssh (or /etc/ssh for the system file), conditional
 *   when inside a Host block, at most 16 levels deep (readconf.c READCONF_MAX_DEPTH);
 * - ProxyJump chains: the first hop is resolved with its own config (including its own ProxyJump), later
 *   hops with ProxyJump ignored, which is what `ssh -J a,b` does when it spawns `ssh -J a b -W ...`.
 * The lexing is done by the `ssh-config` package; only the evaluation, which it gets subtly wrong
 * (`?` matching zero chars, no Include), is ours.
 */
import { globSync, readFileSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig, { LineType, type Line } from 'ssh-config';
import { parseDestination, parseProxyJump, type DestinationParts } from './destination';

export interface ResolveOptions {
  /** Home directory used for `~` and the default ~/.ssh/config (default: os.homedir()). */
  readonly home?: string;
  /** Explicit user config file (like `ssh -F`): the system-wide file is then ignored. */
  readonly configPath?: string;
  /** System-wide config; `false` to skip. Default /etc/ssh/ssh_config unless configPath is given. */
  readonly systemConfigPath?: string | false;
  /** Local user name (default os.userInfo().username). */
  readonly localUser?: string;
}

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

export interface ResolvedHost {
  /** What the user typed. */
  readonly destination: string;
  /** The name Host patterns were matched against (`%n`). */
  readonly alias: string;
  /** The address actually connected to (`HostName`, `%h`). */
  readonly hostName: string;
  readonly user: string;
  readonly port: number;
  /** Identity files, `~` and tokens expanded, in the order OpenSSH tries them. */
  readonly identityFiles: readonly string[];
  /** True when IdentityFile came from the config; false when these are OpenSSH's default key names. */
  readonly identityFilesConfigured: boolean;
  readonly identitiesOnly: boolean;
  /** IdentityAgent (`none` disables the agent; `SSH_AUTH_SOCK` means the environment variable). */
  readonly identityAgent?: string;
  /** Hops to go through, in connection order; each is fully resolved. */
  readonly proxyJump: readonly ResolvedHost[];
  readonly connectTimeoutSec?: number;
  /** 0 = not set (OpenSSH default: no keepalive). */
  readonly serverAliveIntervalSec: number;
  readonly serverAliveCountMax: number;
  readonly userKnownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  readonly hashKnownHosts: boolean;
  readonly hostKeyAlias?: string;
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  readonly batchMode: boolean;
  readonly passwordAuthentication: boolean;
  readonly kbdInteractiveAuthentication: boolean;
  readonly pubkeyAuthentication: boolean;
  readonly home: string;
  /** Config files read, in order (for "where does this setting come from" in the UI). */
  readonly configFiles: readonly string[];
  /** Settings we saw but do not honour (Match exec, ProxyCommand...). Shown to the user, never silently dropped. */
  readonly warnings: readonly string[];
}

export class SshConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshConfigError';
  }
}

const MAX_INCLUDE_DEPTH = 16; // readconf.c READCONF_MAX_DEPTH
const MAX_JUMP_DEPTH = 8;
const DEFAULT_IDENTITY_NAMES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];
const UNSUPPORTED = new Set(['proxycommand', 'localcommand', 'permitlocalcommand', 'knownhostscommand', 'canonicalizehostname']);

/** Raw values collected for one host, keyed by lowercase keyword. */
interface Collected {
  readonly first: Map<string, readonly string[]>;
  readonly identityFiles: string[];
  readonly files: string[];
  readonly warnings: string[];
}

interface EvalContext {
  readonly host: string; // original host, lowercased
  readonly localUser: string;
  readonly home: string;
  readonly userForMatch?: string;
}

/** OpenSSH wildcard match (match.c match_pattern): `*` any run, `?` exactly one character, case-sensitive. */
export function matchPattern(text: string, pattern: string): boolean {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's').test(text);
}

/**
 * match_pattern_list semantics: a negated pattern that matches rejects the list outright; otherwise the list
 * matches when some positive pattern matches (so a list of only negations never matches).
 */
export function matchPatternList(text: string, patterns: readonly string[]): boolean {
  let positive = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(text, p.slice(1))) return false;
    } else if (matchPattern(text, p)) {
      positive = true;
    }
  }
  return positive;
}

function valuesOf(line: { value: string | readonly { val: string }[] }): string[] {
  if (typeof line.value === 'string') {
    return line.value.split(/\s+/).filter((s) => s !== '');
  }
  return line.value.map((v) => v.val);
}

function singleValue(line: { value: string | readonly { val: string }[] }): string {
  return typeof line.value === 'string' ? line.value : line.value.map((v) => v.val).join(' ');
}

export function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

/** Larger than any real ssh config; a bigger "config" is a mistake (or a device) and is not read. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function readConfigText(file: string): string | undefined {
  try {
    // Only regular files: an Include glob can name a device or a FIFO (`Include /dev/*`), and reading /dev/zero
    // or a tty would never end. /dev/null is the usual "no config" (`ssh -F /dev/null`); a directory matched by
    // an Include glob reads as nothing, as in OpenSSH (its getline fails and the file counts as empty).
    const st = statSync(file);
    if (st.isDirectory()) return undefined;
    if (!st.isFile()) {
      if (realpathSync(file) === '/dev/null') return '';
      throw new SshConfigError(`cannot read ssh config ${file}: not a regular file`);
    }
    if (st.size > MAX_CONFIG_BYTES) throw new SshConfigError(`cannot read ssh config ${file}: ${st.size} bytes is too large for an ssh config (limit ${MAX_CONFIG_BYTES})`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof SshConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new SshConfigError(`cannot read ssh config ${file}: ${(e as Error).message}`);
  }
}

/**
 * The `ssh-config` lexer throws plain Errors, and TypeErrors on some malformed lines (a directive whose value is an
 * unclosed quote: found by fuzzing): either way the file is unreadable, which the user is told as an SshConfigError.
 */
function parseConfigText(text: string, file: string): readonly Line[] {
  try {
    return SSHConfig.parse(text);
  } catch (e) {
    throw new SshConfigError(`cannot parse ssh config ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Evaluate one config file into `out`, starting with the given activity (readconf.c read_config_file_depth). */
function evalFile(file: string, baseDir: string, ctx: EvalContext, out: Collected, active: boolean, neverMatch: boolean, depth: number): void {
  if (depth > MAX_INCLUDE_DEPTH) throw new SshConfigError(`ssh config: Include nested too deeply at ${file}`);
  const text = readConfigText(file);
  if (text === undefined) return;
  out.files.push(file);
  const lines = parseConfigText(text, file);
  evalLines(lines, file, baseDir, ctx, out, { active, neverMatch }, depth);
}

interface Activity {
  active: boolean;
  readonly neverMatch: boolean;
}

function evalLines(lines: readonly Line[], file: string, baseDir: string, ctx: EvalContext, out: Collected, act: Activity, depth: number): void {
  for (const line of lines) {
    if (line.type !== LineType.DIRECTIVE) continue;
    const key = line.param.toLowerCase();
    if (key === 'host') {
      act.active = !act.neverMatch && matchPatternList(ctx.host, valuesOf(line));
      if ('config' in line) evalLines(line.config, file, baseDir, ctx, out, act, depth);
      continue;
    }
    if (key === 'match') {
      act.active = !act.neverMatch && evalMatch(valuesOf(line), ctx, out, file);
      if ('config' in line) evalLines(line.config, file, baseDir, ctx, out, act, depth);
      continue;
    }
    if (key === 'include') {
      // An Include in an inactive block still reads the file but nothing in it may match (SSHCONF_NEVERMATCH).
      const saved = act.active;
      for (const raw of valuesOf(line)) {
        const expanded = expandTilde(raw, ctx.home);
        const pattern = path.isAbsolute(expanded) ? expanded : path.join(baseDir, expanded);
        const matches = /[*?[]/.test(pattern) ? globSync(pattern).sort() : [pattern];
        for (const m of matches) evalFile(m, baseDir, ctx, out, act.active, act.neverMatch || !act.active, depth + 1);
      }
      act.active = saved;
      continue;
    }
    if (!act.active) continue;
    if (UNSUPPORTED.has(key)) {
      out.warnings.push(`${file}: ${line.param} is not supported by Casefile and was ignored`);
      if (!out.first.has(key)) out.first.set(key, [singleValue(line)]);
      continue;
    }
    if (key === 'identityfile') {
      out.identityFiles.push(singleValue(line));
      continue;
    }
    if (!out.first.has(key)) {
      out.first.set(key, key === 'userknownhostsfile' || key === 'globalknownhostsfile' ? valuesOf(line) : [singleValue(line)]);
    }
  }
}

/** `Match` criteria we can evaluate without running anything; the rest make the block inactive with a warning. */
function evalMatch(words: readonly string[], ctx: EvalContext, out: Collected, file: string): boolean {
  let i = 0;
  let result = true;
  const hostName = out.first.get('hostname')?.[0]?.replace(/%h/g, ctx.host) ?? ctx.host;
  const user = out.first.get('user')?.[0] ?? ctx.userForMatch ?? ctx.localUser;
  while (i < words.length) {
    const crit = words[i]!.toLowerCase();
    const negate = crit.startsWith('!');
    const c = negate ? crit.slice(1) : crit;
    i++;
    let ok: boolean;
    if (c === 'all') ok = true;
    else if (c === 'host' || c === 'originalhost' || c === 'user' || c === 'localuser') {
      const arg = words[i++] ?? '';
      const subject = c === 'host' ? hostName : c === 'originalhost' ? ctx.host : c === 'user' ? user : ctx.localUser;
      ok = matchPatternList(subject, arg.split(','));
    } else {
      out.warnings.push(`${file}: "Match ${c}" is not evaluated by Casefile; the block was treated as not matching`);
      return false;
    }
    if (negate) ok = !ok;
    if (!ok) result = false;
  }
  return result;
}

function yesNo(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  const s = v.toLowerCase();
  return s === 'yes' || s === 'true';
}

function intSetting(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v.toLowerCase() === 'none') return undefined;
  if (!/^\d+$/.test(v)) throw new SshConfigError(`ssh config: ${name} "${v}" is not a number`);
  return Number(v);
}

/** percent_expand for the tokens ssh_config(5) lists under TOKENS that make sense without a live connection. */
function expandTokens(s: string, t: { home: string; localUser: string; hostName: string; remoteUser: string; port: number; alias: string; hostKeyAlias?: string }): string {
  return s.replace(/%(.)/g, (all, ch: string) => {
    switch (ch) {
      case '%': return '%';
      case 'd': return t.home;
      case 'u': return t.localUser;
      case 'h': return t.hostName;
      case 'r': return t.remoteUser;
      case 'p': return String(t.port);
      case 'n': return t.alias;
      case 'k': return t.hostKeyAlias ?? t.alias;
      case 'i': return String(process.getuid?.() ?? '');
      case 'l': return os.hostname();
      case 'L': return os.hostname().split('.')[0] ?? '';
      default: throw new SshConfigError(`ssh config: unsupported token "${all}" in "${s}"`);
    }
  });
}

function defaultLocalUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

function collect(parts: DestinationParts, opts: ResolveOptions, home: string, localUser: string): Collected {
  const out: Collected = { first: new Map(), identityFiles: [], files: [], warnings: [] };
  const ctx: EvalContext = { host: parts.host, localUser, home, ...(parts.user ? { userForMatch: parts.user } : {}) };
  // Command-line values come first and so win (ssh.c sets them before reading any file).
  if (parts.user !== undefined) out.first.set('user', [parts.user]);
  if (parts.port !== undefined) out.first.set('port', [String(parts.port)]);
  const sshDir = path.join(home, '.ssh');
  const userFile = opts.configPath ?? path.join(sshDir, 'config');
  evalFile(userFile, sshDir, ctx, out, true, false, 0);
  const system = opts.systemConfigPath ?? (opts.configPath !== undefined ? false : '/etc/ssh/ssh_config');
  if (system !== false) evalFile(system, path.dirname(system), ctx, out, true, false, 0);
  return out;
}

function resolveParts(parts: DestinationParts, destination: string, opts: ResolveOptions, withJump: boolean, depth: number, seen: readonly string[]): ResolvedHost {
  if (depth > MAX_JUMP_DEPTH) throw new SshConfigError(`ProxyJump chain deeper than ${MAX_JUMP_DEPTH} hops at "${destination}"`);
  const home = opts.home ?? os.homedir();
  const localUser = opts.localUser ?? defaultLocalUser();
  const c = collect(parts, opts, home, localUser);
  const get = (k: string): string | undefined => c.first.get(k)?.[0];
  const alias = parts.host;
  // HostName accepts only %h and %% (readconf.c: percent_expand(options.hostname, "h", host)).
  const hostName = (get('hostname') ?? alias).replace(/%(.)/g, (all, ch: string) => (ch === 'h' ? alias : ch === '%' ? '%' : all));
  const user = get('user') ?? localUser;
  const port = intSetting('Port', get('port')) ?? 22;
  const hostKeyAlias = get('hostkeyalias');
  const tok = { home, localUser, hostName, remoteUser: user, port, alias, ...(hostKeyAlias ? { hostKeyAlias } : {}) };
  const configured = c.identityFiles.length > 0;
  const rawIds = configured ? c.identityFiles : DEFAULT_IDENTITY_NAMES.map((n) => `~/.ssh/${n}`);
  const identityFiles = [...new Set(rawIds.filter((f) => f.toLowerCase() !== 'none').map((f) => expandTokens(expandTilde(f, home), tok)))];
  const ukh = c.first.get('userknownhostsfile') ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
  const gkh = c.first.get('globalknownhostsfile') ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
  const strictRaw = (get('stricthostkeychecking') ?? 'ask').toLowerCase();
  const strict: StrictHostKeyChecking =
    strictRaw === 'yes' || strictRaw === 'true' ? 'yes' : strictRaw === 'no' || strictRaw === 'off' || strictRaw === 'false' ? 'no' : strictRaw === 'accept-new' ? 'accept-new' : 'ask';
  const warnings = [...c.warnings];
  let proxyJump: ResolvedHost[] = [];
  const pj = get('proxyjump');
  if (withJump && pj !== undefined) {
    const hops = parseProxyJump(pj);
    const chainSeen = [...seen, `${alias}:${port}`];
    proxyJump = hops.flatMap((hop, i) => {
      const key = `${hop.host}:${hop.port ?? '?'}`;
      if (chainSeen.includes(key) || hop.host === alias) throw new SshConfigError(`ProxyJump loop: "${hop.host}" jumps through itself (${[...chainSeen, key].join(' -> ')})`);
      // The first hop keeps its own ProxyJump (it becomes the earlier part of the chain); later hops are
      // reached through the previous one, so their own ProxyJump is overridden (ssh -J semantics).
      const r = resolveParts(hop, hop.host, opts, i === 0, depth + 1, chainSeen);
      return i === 0 ? [...r.proxyJump, { ...r, proxyJump: [] }] : [r];
    });
  }
  const connectTimeoutSec = intSetting('ConnectTimeout', get('connecttimeout'));
  const identityAgent = get('identityagent');
  return {
    destination,
    alias,
    hostName,
    user,
    port,
    identityFiles,
    identityFilesConfigured: configured,
    identitiesOnly: yesNo(get('identitiesonly'), false),
    ...(identityAgent !== undefined ? { identityAgent: expandTilde(identityAgent, home) } : {}),
    proxyJump,
    ...(connectTimeoutSec !== undefined ? { connectTimeoutSec } : {}),
    serverAliveIntervalSec: intSetting('ServerAliveInterval', get('serveraliveinterval')) ?? 0,
    serverAliveCountMax: intSetting('ServerAliveCountMax', get('serveralivecountmax')) ?? 3,
    userKnownHostsFiles: ukh.filter((f) => f.toLowerCase() !== 'none').map((f) => expandTokens(expandTilde(f, home), tok)),
    globalKnownHostsFiles: gkh.filter((f) => f.toLowerCase() !== 'none').map((f) => expandTokens(expandTilde(f, home), tok)),
    hashKnownHosts: yesNo(get('hashknownhosts'), false),
    ...(hostKeyAlias !== undefined ? { hostKeyAlias } : {}),
    strictHostKeyChecking: strict,
    batchMode: yesNo(get('batchmode'), false),
    passwordAuthentication: yesNo(get('passwordauthentication'), true),
    kbdInteractiveAuthentication: yesNo(get('kbdinteractiveauthentication') ?? get('challengeresponseauthentication'), true),
    pubkeyAuthentication: yesNo(get('pubkeyauthentication'), true),
    home,
    configFiles: c.files,
    warnings,
  };
}

/**
 * Resolve `dest` (an alias, `host`, `user@host:port`, `ssh://...`) against the user's ssh config.
 * Throws DestinationSyntaxError / SshConfigError with a message fit for the user.
 */
export function resolveDestination(dest: string, opts: ResolveOptions = {}): ResolvedHost {
  return resolveParts(parseDestination(dest), dest, opts, true, 0, []);
}

export interface ConfigHostEntry {
  readonly alias: string;
  /** Where the Host line is. */
  readonly file: string;
  readonly resolved?: ResolvedHost;
  readonly error?: string;
}

function collectHostNames(file: string, baseDir: string, home: string, depth: number, out: Map<string, string>): void {
  if (depth > MAX_INCLUDE_DEPTH) return;
  const text = readConfigText(file);
  if (text === undefined) return;
  const walk = (lines: readonly Line[]): void => {
    for (const line of lines) {
      if (line.type !== LineType.DIRECTIVE) continue;
      const key = line.param.toLowerCase();
      if (key === 'host') {
        for (const p of valuesOf(line)) {
          if (!/[*?!]/.test(p) && !out.has(p.toLowerCase())) out.set(p.toLowerCase(), file);
        }
      } else if (key === 'include') {
        for (const raw of valuesOf(line)) {
          const expanded = expandTilde(raw, home);
          const pattern = path.isAbsolute(expanded) ? expanded : path.join(baseDir, expanded);
          const matches = /[*?[]/.test(pattern) ? globSync(pattern).sort() : [pattern];
          for (const m of matches) collectHostNames(m, baseDir, home, depth + 1, out);
        }
      }
      if ('config' in line) walk(line.config);
    }
  };
  walk(parseConfigText(text, file));
}

/** "Import hosts from ~/.ssh/config": every concrete (wildcard-free, non-negated) Host name with its resolved settings. */
export function listConfigHosts(opts: ResolveOptions = {}): readonly ConfigHostEntry[] {
  const home = opts.home ?? os.homedir();
  const sshDir = path.join(home, '.ssh');
  const names = new Map<string, string>();
  collectHostNames(opts.configPath ?? path.join(sshDir, 'config'), sshDir, home, 0, names);
  return [...names].map(([alias, file]) => {
    try {
      return { alias, file, resolved: resolveDestination(alias, opts) };
    } catch (e) {
      return { alias, file, error: (e as Error).message };
    }
  });
}
