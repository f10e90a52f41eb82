/**
 * The known-hosts service: the one place that decides whether a host key is trusted. Follows OpenSSH's
 * hostfile.c / sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT":
 * - `[marker] hostnames keytype base64-key [comment]`, hostnames a comma list of patterns (`*`, `?`, `!`),
 *   or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` (HashKnownHosts);
 * - the name looked up is `host` for port 22 and `[host]:port` otherwise (misc.c put_host_port), or the
 *   HostKeyAlias when one is configured;
 * - `@revoked` lines refuse the key; `@cert-authority` lines are about certificates, which we do not
 *   use, so they are ignored and reported as a note.
 * The decision distinguishes a *changed* key (same algorithm, different key: possible MITM) from a key of an
 * algorithm the file has not recorded for that host yet (`new-algorithm`, e.g. after a server added ed25519).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { matchPatternList } from './config';

export type HostKeyCheck =
  | { readonly result: 'known'; readonly file: string; readonly line: number; readonly notes: readonly string[] }
  | { readonly result: 'unknown'; readonly fingerprint: string; readonly notes: readonly string[] }
  | { readonly result: 'changed'; readonly fingerprint: string; readonly file: string; readonly line: number; readonly knownType: string; readonly knownFingerprint: string; readonly notes: readonly string[] }
  | { readonly result: 'new-algorithm'; readonly fingerprint: string; readonly knownTypes: readonly string[]; readonly notes: readonly string[] }
  | { readonly result: 'revoked'; readonly fingerprint: string; readonly file: string; readonly line: number; readonly notes: readonly string[] };

export interface KnownHostsOptions {
  /** User files, in order; new keys are appended to the first (ssh_config UserKnownHostsFile). */
  readonly userFiles: readonly string[];
  /** Read-only system files (GlobalKnownHostsFile). */
  readonly globalFiles?: readonly string[];
  /** Write new entries hashed (ssh_config HashKnownHosts). */
  readonly hash?: boolean;
  /** Look keys up under this name instead of host/port (ssh_config HostKeyAlias). */
  readonly hostKeyAlias?: string;
}

interface Entry {
  readonly file: string;
  readonly line: number;
  readonly marker?: 'revoked' | 'cert-authority';
  readonly names: string; // the raw hostnames field
  readonly keyType: string;
  readonly blob: Buffer;
}

/** SHA256 fingerprint exactly as `ssh-keygen -lf` prints it: unpadded base64 of sha256(blob). */
export function fingerprintSha256(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name inside an SSH public key blob (RFC 4253 §6.6: the blob starts with string "type"). */
export function keyTypeOfBlob(blob: Uint8Array): string {
  if (blob.length < 4) throw new Error('host key blob too short');
  const len = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0);
  if (len > blob.length - 4 || len > 64) throw new Error('host key blob has a bad type length');
  return Buffer.from(blob.subarray(4, 4 + len)).toString('latin1');
}

/** The name a host is recorded under (misc.c put_host_port). */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hashedMatches(field: string, name: string): boolean {
  // |1|salt|hash, HMAC-SHA1 keyed with the salt (hostfile.c host_hash)
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = parts[3]!;
  const got = createHmac('sha1', salt).update(name).digest('base64');
  return got === want;
}

export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

function nameMatches(entry: Entry, name: string): boolean {
  if (entry.names.startsWith('|')) return hashedMatches(entry.names, name);
  // match_hostname: case-insensitive pattern list with negation
  return matchPatternList(name.toLowerCase(), entry.names.toLowerCase().split(','));
}

export class KnownHosts {
  private readonly opts: KnownHostsOptions;

  constructor(opts: KnownHostsOptions) {
    if (opts.userFiles.length === 0) throw new Error('KnownHosts needs at least one user known_hosts file (UserKnownHostsFile none is not supported)');
    this.opts = opts;
  }

  /** The file new keys go to. */
  get writeFile(): string {
    return this.opts.userFiles[0]!;
  }

  private load(notes: string[]): Entry[] {
    const entries: Entry[] = [];
    for (const file of [...this.opts.userFiles, ...(this.opts.globalFiles ?? [])]) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        notes.push(`cannot read ${file}: ${(e as Error).message}`);
        continue;
      }
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const raw = lines[i]!.trim();
        if (raw === '' || raw.startsWith('#')) continue;
        const words = raw.split(/\s+/);
        let marker: Entry['marker'];
        if (words[0]!.startsWith('@')) {
          const m = words.shift()!;
          if (m === '@revoked') marker = 'revoked';
          else if (m === '@cert-authority') marker = 'cert-authority';
          else {
            notes.push(`${file}:${i + 1}: unknown marker ${m}, line ignored`);
            continue;
          }
        }
        if (words.length < 3) {
          notes.push(`${file}:${i + 1}: malformed line ignored`);
          continue;
        }
        const [names, keyType, b64] = words as [string, string, string];
        const blob = Buffer.from(b64, 'base64');
        if (blob.length < 8) {
          notes.push(`${file}:${i + 1}: key does not decode, line ignored`);
          continue;
        }
        entries.push({ file, line: i + 1, names, keyType, blob, ...(marker ? { marker } : {}) });
      }
    }
    return entries;
  }

  /** Decide on a host key presented by `host:port` (the HostName actually connected to). */
  check(host: string, port: number, keyType: string, keyBlob: Uint8Array): HostKeyCheck {
    const notes: string[] = [];
    const name = this.opts.hostKeyAlias ?? knownHostsName(host.toLowerCase(), port);
    const blob = Buffer.from(keyBlob);
    const fingerprint = fingerprintSha256(blob);
    const matching = this.load(notes).filter((e) => nameMatches(e, name));
    for (const e of matching) {
      if (e.marker === 'cert-authority') notes.push(`${e.file}:${e.line}: @cert-authority entry ignored (host certificates are not used by Casefile)`);
    }
    const revoked = matching.find((e) => e.marker === 'revoked' && e.blob.equals(blob));
    if (revoked) return { result: 'revoked', fingerprint, file: revoked.file, line: revoked.line, notes };
    const plain = matching.filter((e) => e.marker === undefined);
    const same = plain.find((e) => e.blob.equals(blob));
    if (same) return { result: 'known', file: same.file, line: same.line, notes };
    const sameType = plain.find((e) => e.keyType === keyType);
    if (sameType) {
      return { result: 'changed', fingerprint, file: sameType.file, line: sameType.line, knownType: sameType.keyType, knownFingerprint: fingerprintSha256(sameType.blob), notes };
    }
    if (plain.length > 0) return { result: 'new-algorithm', fingerprint, knownTypes: [...new Set(plain.map((e) => e.keyType))], notes };
    return { result: 'unknown', fingerprint, notes };
  }

  /** Record a key the user accepted: one line appended to the first user file (created 0600 in a 0700 dir). */
  accept(host: string, port: number, keyType: string, keyBlob: Uint8Array): { file: string; line: string } {
    const file = this.writeFile;
    const name = this.opts.hostKeyAlias ?? knownHostsName(host.toLowerCase(), port);
    const field = this.opts.hash ? hashHostName(name) : name;
    const line = `${field} ${keyType} ${Buffer.from(keyBlob).toString('base64')}`;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    let prefix = '';
    try {
      const size = statSync(file).size;
      if (size > 0) {
        const text = readFileSync(file);
        if (text[text.length - 1] !== 0x0a) prefix = '\n';
      }
    } catch {
      // no file yet: appendFileSync creates it
    }
    appendFileSync(file, `${prefix}${line}\n`, { mode: 0o600 });
    return { file, line };
  }
}
