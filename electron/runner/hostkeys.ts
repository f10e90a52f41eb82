import { randomBytes } from 'node:crypto';
import type { EventPayload } from '../../shared/api/contract';

export interface HostKeyQuestion {
  readonly host: string;
  readonly port: number;
  readonly keyType: string;
  readonly fingerprint: string;
  readonly knownTypes?: readonly string[];
}

/**
 * Unknown host keys are decided by a person: the UI shows the SHA256 fingerprint and answers through
 * `hostkeys.decide`. No answer within the time limit means "refuse", never "accept".
 */
export class HostKeyPrompter {
  private readonly pending = new Map<string, { resolve: (ok: boolean) => void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly emit: (p: EventPayload<'hostkey.prompt'>) => void,
    private readonly timeoutMs = 5 * 60_000,
  ) {}

  ask(q: HostKeyQuestion): Promise<boolean> {
    const promptId = randomBytes(12).toString('hex');
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => this.decide(promptId, false), this.timeoutMs);
      timer.unref();
      this.pending.set(promptId, { resolve, timer });
      this.emit({ promptId, host: q.host, port: q.port, keyType: q.keyType, fingerprint: q.fingerprint, reason: q.knownTypes?.length ? 'new-algorithm' : 'unknown' });
    });
  }

  decide(promptId: string, accept: boolean): boolean {
    const p = this.pending.get(promptId);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(promptId);
    p.resolve(accept);
    return true;
  }

  get waiting(): number {
    return this.pending.size;
  }
}
