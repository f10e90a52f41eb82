import { useEffect, useState, type ReactNode } from 'react';
import type { Event } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { errorText } from '../api/errors';
import { buildChain, CHAIN_WINDOW_NS, STAGE_LABEL, STAGES, type ChainItem } from '../evidence/chain';
import { clip, visible } from '../util/text';
import { showNs } from '../util/time';
import { useCase } from './caseContext';

/** Kinds the chain draws on, each fetched for ±CHAIN_WINDOW_NS around the selected event. */
const WINDOW_KINDS = ['syscall', 'lock', 'rpc', 'kernel'] as const;

/**
 * Side panel: the evidence chain of the selected event (strace lock call ↔ /proc/locks ↔ NLM/NFSv4 lock
 * packets ↔ kernel lock-manager lines), each item a link that opens it in the artifact viewer.
 */
export function EvidenceChainPanel({ event, related }: { event: Event; related: { eventIds: readonly number[]; keys: readonly string[] } | undefined }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const [chain, setChain] = useState<readonly ChainItem[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    setChain(undefined);
    setError(undefined);
    void (async () => {
      try {
        const t = event.correctedNs ?? event.tsNs;
        const ids = related?.eventIds.slice(0, 1000) ?? [];
        const [linked, ...windows] = await Promise.all([
          ids.length ? api.call('events.list', { caseId: ctx.caseId, ids: [...ids], limit: 5000 }) : Promise.resolve([] as Event[]),
          ...(t === undefined
            ? []
            : WINDOW_KINDS.map((k) =>
                api.call('events.list', { caseId: ctx.caseId, kinds: [k], fromNs: (BigInt(t) - CHAIN_WINDOW_NS).toString(), toNs: (BigInt(t) + CHAIN_WINDOW_NS).toString(), limit: 5000 }),
              )),
        ]);
        if (cancelled) return;
        setChain(buildChain(event, [...linked!, ...windows.flat()], new Set(ids), related?.keys ?? []));
      } catch (e) {
        if (!cancelled) setError(errorText(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, ctx.caseId, event, related]);

  return (
    <aside className="card evidence-chain" data-testid="evidence-chain" data-state={chain ? 'ready' : error ? 'error' : 'loading'}>
      <h3>Evidence chain</h3>
      <p className="muted small">The lock call, its /proc/locks row, the lock protocol packets and the kernel&apos;s lock-manager lines within ±60 s, linked by pid, XID, file handle or lock owner where they share one.</p>
      {error && <p className="error">{error}</p>}
      {!chain && !error && <p className="muted">Collecting…</p>}
      {chain &&
        STAGES.map((st) => {
          const items = chain.filter((c) => c.stage === st);
          return (
            <div key={st} className="chain-stage" data-testid={`chain-stage-${st}`}>
              <h4>
                {STAGE_LABEL[st]} <span className="muted small">({items.length})</span>
              </h4>
              {items.length === 0 ? (
                <p className="muted small">none in the window</p>
              ) : (
                <ol>
                  {items.map((c) => (
                    <li key={c.event.id} className={`chain-item${c.reason === 'selected' ? ' selected' : ''}${c.linked ? ' linked' : ''}`} data-testid="chain-item" data-stage={st} data-event-id={c.event.id}>
                      <button className="link" onClick={() => void ctx.openEvent(c.event.id)} title="Open in the artifact viewer" data-testid="chain-open">
                        {clip(visible(c.event.text), 140)}
                      </button>
                      <div className="muted small">
                        {visible(ctx.hostName(c.event.hostId))} · {showNs(ctx.corrected ? (c.event.correctedNs ?? c.event.tsNs) : c.event.tsNs, ctx.zone, 6)} · {visible(c.reason)}
                      </div>
                    </li>
                  ))}
                </ol>
              )}
            </div>
          );
        })}
    </aside>
  );
}
