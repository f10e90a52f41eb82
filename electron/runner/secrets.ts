import { randomBytes } from 'node:crypto';
import type { EventPayload } from '../../shared/api/contract';

/**
 * Where a remembered secret may live: on the desktop, an Electron `safeStorage`-encrypted file (main.ts);
 * nowhere otherwise. Never the case database, never logs.
 */
export interface SecretVault {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/**
 * Passphrases and passwords asked of the person at the keyboard through the UI (`secret.prompt` event,
 * `secrets.answer` method). Kept only for the attempt in progress unless the user asks to remember it and a
 * vault exists. No answer within the time limit means "skip this key/method".
 */
export class SecretPrompter {
  private readonly pending = new Map<string, { resolve: (v: string | undefined) => void; timer: NodeJS.Timeout; key: string }>();

  constructor(
    private readonly emit: (p: EventPayload<'secret.prompt'>) => void,
    private readonly vault?: SecretVault,
    private readonly timeoutMs = 5 * 60_000,
  ) {}

  ask(kind: 'passphrase' | 'password', key: string, prompt: string, attempt = 1): Promise<string | undefined> {
    if (attempt === 1) {
      const remembered = this.vault?.get(`${kind}:${key}`);
      if (remembered !== undefined) return Promise.resolve(remembered);
    }
    const promptId = randomBytes(12).toString('hex');
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.answer(promptId, undefined, false), this.timeoutMs);
      timer.unref();
      this.pending.set(promptId, { resolve, timer, key: `${kind}:${key}` });
      this.emit({ promptId, kind, prompt, canRemember: this.vault !== undefined, attempt });
    });
  }

  answer(promptId: string, value: string | undefined, remember: boolean): boolean {
    const p = this.pending.get(promptId);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(promptId);
    if (remember && value !== undefined && this.vault) this.vault.set(p.key, value);
    p.resolve(value);
    return true;
  }
}
