/**
 * One connection per host: sessions keyed by the full route (jump chain + user@host:port), shared by every
 * step that targets that host, connected once even when several callers ask at the same time.
 */
import type { ResolvedHost } from './config';
import { HostSession, type SessionOptions } from './session';
import { describeHop } from './transport';

export function routeKey(r: ResolvedHost): string {
  return [...r.proxyJump, r].map(describeHop).join(' -> ');
}

export class SessionPool {
  private readonly sessions = new Map<string, Promise<HostSession>>();
  constructor(private readonly opts: SessionOptions = {}) {}

  get(resolved: ResolvedHost, opts: SessionOptions = this.opts): Promise<HostSession> {
    const key = routeKey(resolved);
    let p = this.sessions.get(key);
    if (!p) {
      p = HostSession.connect(resolved, opts);
      this.sessions.set(key, p);
      // A failed connect must not poison the key for the next attempt.
      p.catch(() => this.sessions.delete(key));
    }
    return p;
  }

  async disposeAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        (await p).dispose();
      } catch {
        // connect had failed: nothing to close
      }
    }
  }
}
