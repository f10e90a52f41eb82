import { useState, type ReactNode } from 'react';
import type { EventPayload } from '../../shared/api/contract';
import { useApi, useApiEvent } from '../api/context';
import { errorText } from '../api/errors';
import { visible } from '../util/text';

type Prompt = EventPayload<'secret.prompt'>;

/**
 * A key passphrase or password the backend needs to continue an SSH login. The value goes straight back
 * through secrets.answer and is dropped from this component; "remember" is offered only where the desktop can
 * keep it encrypted (Electron safeStorage), as the backend says with canRemember.
 */
export function SecretPrompts(): ReactNode {
  const api = useApi();
  const [queue, setQueue] = useState<readonly Prompt[]>([]);
  const [value, setValue] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  useApiEvent('secret.prompt', (p) => setQueue((q) => (q.some((x) => x.promptId === p.promptId) ? q : [...q, p])));
  const current = queue[0];
  if (!current) return null;
  const answer = async (give: boolean): Promise<void> => {
    try {
      await api.call('secrets.answer', { promptId: current.promptId, value: give ? value : undefined, remember: give && remember });
      setError(undefined);
    } catch (e) {
      setError(errorText(e));
    }
    setValue('');
    setRemember(false);
    setQueue((q) => q.filter((x) => x.promptId !== current.promptId));
  };
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="dialog"
        aria-label={current.kind === 'passphrase' ? 'Key passphrase' : 'Password'}
        data-testid="secret-prompt"
        onSubmit={(e) => {
          e.preventDefault();
          void answer(true);
        }}
      >
        <h2>{current.kind === 'passphrase' ? 'Key passphrase needed' : 'Password needed'}</h2>
        <p>{visible(current.prompt)}</p>
        {current.attempt > 1 && <p className="error">That did not work (attempt {current.attempt}).</p>}
        <input type="password" autoFocus autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} data-testid="secret-value" />
        {current.canRemember && (
          <label>
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} /> remember it on this computer (encrypted by the OS)
          </label>
        )}
        {error && <p className="error">{error}</p>}
        <div className="row end">
          <button type="button" onClick={() => void answer(false)}>
            Cancel
          </button>
          <button className="primary" type="submit" data-testid="secret-submit">
            Continue
          </button>
        </div>
      </form>
    </div>
  );
}
