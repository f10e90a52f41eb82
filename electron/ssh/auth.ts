/**
 * Client authentication as an ordered plan of methods (RFC 4252), tried in OpenSSH's order
 * (PreferredAuthentications default: publickey, keyboard-interactive, password): agent keys, then identity
 * files, then the prompted fallbacks. Secrets (passphrases, passwords) live only in local variables for the
 * duration of one attempt: nothing here stores them.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, ParsedKey, Prompt } from 'ssh2';
import type { ResolvedHost } from './config';

const { utils } = ssh2;

export type AuthMethodPlan =
  | { readonly kind: 'agent'; readonly socket: string }
  | { readonly kind: 'publickey'; readonly keyPath: string; readonly configured: boolean }
  | { readonly kind: 'keyboard-interactive' }
  | { readonly kind: 'password' };

export interface PasswordRequest {
  readonly kind: 'password' | 'keyboard-interactive';
  readonly user: string;
  readonly host: string;
  readonly prompt: string;
  readonly echo: boolean;
}

export interface AuthPrompts {
  /** Ask for the passphrase of an encrypted key; undefined = skip that key. Called again after a wrong one. */
  readonly askPassphrase?: (keyPath: string, attempt: number) => Promise<string | undefined>;
  /** Ask for a password or a keyboard-interactive answer; undefined = skip the method. */
  readonly askPassword?: (req: PasswordRequest) => Promise<string | undefined>;
}

const MAX_PASSPHRASE_TRIES = 3; // ssh(1) asks three times (sshconnect2.c load_identity_file)

/** The plan for one host, from its resolved config and the environment (SSH_AUTH_SOCK). */
export function planAuth(resolved: ResolvedHost, env: NodeJS.ProcessEnv = process.env): readonly AuthMethodPlan[] {
  const plan: AuthMethodPlan[] = [];
  if (resolved.pubkeyAuthentication) {
    const agentSetting = resolved.identityAgent;
    const socket = agentSetting === undefined || agentSetting === 'SSH_AUTH_SOCK' ? env.SSH_AUTH_SOCK : agentSetting.toLowerCase() === 'none' ? undefined : agentSetting;
    // IdentitiesOnly: OpenSSH then only offers agent keys that match an IdentityFile. We cannot match keys
    // without loading every file first, so we keep it simple and strict: no agent when IdentitiesOnly is set
    // and IdentityFile names keys explicitly.
    if (socket && !(resolved.identitiesOnly && resolved.identityFilesConfigured)) plan.push({ kind: 'agent', socket });
    for (const keyPath of resolved.identityFiles) plan.push({ kind: 'publickey', keyPath, configured: resolved.identityFilesConfigured });
  }
  if (resolved.kbdInteractiveAuthentication) plan.push({ kind: 'keyboard-interactive' });
  if (resolved.passwordAuthentication) plan.push({ kind: 'password' });
  return plan;
}

function serverName(p: AuthMethodPlan): AuthenticationType {
  switch (p.kind) {
    case 'agent':
    case 'publickey':
      return 'publickey';
    case 'keyboard-interactive':
      return 'keyboard-interactive';
    case 'password':
      return 'password';
    default: {
      const never: never = p;
      throw new Error(`unreachable auth plan ${JSON.stringify(never)}`);
    }
  }
}

function isEncryptedKeyError(e: Error): boolean {
  return /encrypted|passphrase/i.test(e.message);
}

function firstKey(k: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(k) ? (k[0] ?? new Error('no key in file')) : k;
}

export interface AuthState {
  /** Labels of what was tried, for the error message. */
  readonly tried: string[];
  /** Problems worth telling the user about (unreadable key, wrong passphrase). */
  readonly notes: string[];
}

/** Build ssh2's authHandler for the plan. Prompts are skipped under BatchMode. */
export function makeAuthHandler(plan: readonly AuthMethodPlan[], resolved: ResolvedHost, prompts: AuthPrompts, state: AuthState): AuthHandlerMiddleware {
  let i = 0;
  const username = resolved.user;
  const batch = resolved.batchMode;
  const askPassword = batch ? undefined : prompts.askPassword;
  const askPassphrase = batch ? undefined : prompts.askPassphrase;

  const loadKey = async (p: Extract<AuthMethodPlan, { kind: 'publickey' }>): Promise<ParsedKey | undefined> => {
    let data: Buffer;
    try {
      data = readFileSync(p.keyPath);
    } catch (e) {
      // Default key names that do not exist are normal; a configured one that cannot be read is worth a note.
      if (p.configured || (e as NodeJS.ErrnoException).code !== 'ENOENT') state.notes.push(`identity file ${p.keyPath}: ${(e as Error).message}`);
      return undefined;
    }
    const plain = firstKey(utils.parseKey(data));
    if (!(plain instanceof Error)) return plain;
    if (!isEncryptedKeyError(plain)) {
      state.notes.push(`identity file ${p.keyPath}: ${plain.message}`);
      return undefined;
    }
    if (!askPassphrase) {
      state.notes.push(`identity file ${p.keyPath} is passphrase-protected and no prompt is available`);
      return undefined;
    }
    for (let attempt = 1; attempt <= MAX_PASSPHRASE_TRIES; attempt++) {
      const pass = await askPassphrase(p.keyPath, attempt);
      if (pass === undefined) return undefined;
      const k = firstKey(utils.parseKey(data, pass));
      if (!(k instanceof Error)) return k;
      state.notes.push(`identity file ${p.keyPath}: wrong passphrase (attempt ${attempt})`);
    }
    return undefined;
  };

  const nextMethod = async (methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false> => {
    while (i < plan.length) {
      const p = plan[i++]!;
      if (methodsLeft && !methodsLeft.includes(serverName(p))) continue;
      switch (p.kind) {
        case 'agent':
          state.tried.push('agent');
          return { type: 'agent', username, agent: p.socket };
        case 'publickey': {
          const key = await loadKey(p);
          if (!key) continue;
          state.tried.push(`publickey ${p.keyPath}`);
          return { type: 'publickey', username, key };
        }
        case 'keyboard-interactive': {
          if (!askPassword) continue;
          state.tried.push('keyboard-interactive');
          return {
            type: 'keyboard-interactive',
            username,
            prompt: (_name: string, _instr: string, _lang: string, ps: Prompt[], finish: (answers: string[]) => void) => {
              void (async () => {
                const answers: string[] = [];
                for (const q of ps) {
                  const a = await askPassword({ kind: 'keyboard-interactive', user: username, host: resolved.hostName, prompt: q.prompt, echo: q.echo === true });
                  answers.push(a ?? '');
                }
                finish(answers);
              })();
            },
          };
        }
        case 'password': {
          if (!askPassword) continue;
          const password = await askPassword({ kind: 'password', user: username, host: resolved.hostName, prompt: `${username}@${resolved.hostName}'s password: `, echo: false });
          if (password === undefined) continue;
          state.tried.push('password');
          return { type: 'password', username, password };
        }
        default: {
          const never: never = p;
          throw new Error(`unreachable auth plan ${JSON.stringify(never)}`);
        }
      }
    }
    return false;
  };

  return (methodsLeft, _partial, next) => {
    // ssh2 takes `false` for "no more methods" although its typings only list methods.
    const give = next as (m: AnyAuthMethod | false) => void;
    // Like ssh(1), start with "none": the server's answer lists the methods it accepts (RFC 4252 §5.2), so we
    // never prompt for something it would refuse anyway.
    if (methodsLeft === null) return give({ type: 'none', username });
    nextMethod(methodsLeft).then(give, (e: unknown) => {
      state.notes.push(`authentication prompt failed: ${(e as Error).message}`);
      give(false);
    });
  };
}
