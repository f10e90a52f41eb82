import { useState, type ReactNode } from 'react';
import type { EventPayload } from '../../shared/api/contract';
import { useApi, useApiEvent } from '../api/context';
import { errorText } from '../api/errors';
import { visible } from '../util/text';

type Prompt = EventPayload<'hostkey.prompt'>;

/**
 * The backend asks before trusting a host key it has not seen (or a new key type for a known host).
 * Nothing is sent to the host until the user answers; the answer goes back through hostkeys.decide.
 */
export function HostKeyPrompts(): ReactNode {
  const api = useApi();
  const [queue, setQueue] = useState<readonly Prompt[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  useApiEvent('hostkey.prompt', (p) => setQueue((q) => (q.some((x) => x.promptId === p.promptId) ? q : [...q, p])));
  const current = queue[0];
  if (!current) return null;
  const decide = async (accept: boolean): Promise<void> => {
    try {
      await api.call('hostkeys.decide', { promptId: current.promptId, accept });
      setError(undefined);
    } catch (e) {
      setError(errorText(e));
    }
    setQueue((q) => q.filter((x) => x.promptId !== current.promptId));
  };
  return (
    <div className="modal-backdrop">
      <div className="modal" role="alertdialog" aria-label="Unknown host key" data-testid="hostkey-prompt">
        <h2>{current.reason === 'unknown' ? 'Unknown host key' : 'New host key type for a known host'}</h2>
        <p>
          The host <strong>{visible(current.host)}</strong> (port {current.port}) presented a {visible(current.keyType)} key that is not in your
          known_hosts. Compare its fingerprint with the one the host's administrator gives you (<code>ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub</code> on the
          host) before accepting.
        </p>
        <pre className="fingerprint" data-testid="hostkey-fingerprint">
          {visible(current.fingerprint)}
        </pre>
        {error && <p className="error">{error}</p>}
        <div className="row end">
          <button onClick={() => void decide(false)}>Refuse</button>
          <button className="primary" onClick={() => void decide(true)}>
            Trust and record in known_hosts
          </button>
        </div>
      </div>
    </div>
  );
}
