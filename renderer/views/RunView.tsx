import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Output, Step } from '../../shared/api/contract';
import { useApi, useApiEvent } from '../api/context';
import { Markdown } from '../markdown/Markdown';
import { useAction, useLoad } from '../util/hooks';
import { visible, visibleLines } from '../util/text';
import { showDuration } from '../util/time';
import { useCase } from './caseContext';
import { PlanList } from './WalkthroughPanel';
import { FindingCard } from './FindingsPanel';

type RunState = Output<'runs.state'>;
/** Live output kept per step in the view; the whole output is in the artifact, this is only the tail. */
const MAX_LIVE_CHARS = 200_000;

export function RunView({ runId }: { runId: number }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const state = useLoad<RunState>(() => api.call('runs.state', { runId }), [runId]);
  const [live, setLive] = useState<ReadonlyMap<number, { text: string; clipped: boolean }>>(new Map());
  const cancel = useAction();

  useApiEvent('run.updated', (p) => p.runId === runId && state.reload());
  useApiEvent('step.output', (p) => {
    if (p.runId !== runId) return;
    setLive((m) => {
      const next = new Map(m);
      const cur = next.get(p.stepId) ?? { text: '', clipped: false };
      let text = cur.text + p.text;
      let clipped = cur.clipped;
      if (text.length > MAX_LIVE_CHARS) {
        text = text.slice(text.length - MAX_LIVE_CHARS);
        clipped = true;
      }
      next.set(p.stepId, { text, clipped });
      return next;
    });
  });

  // A run that is still going is also polled, in case an event was missed while the socket reconnected.
  useEffect(() => {
    if (state.data?.done) return;
    const t = setInterval(() => state.reload(), 3000);
    return () => clearInterval(t);
  }, [state.data?.done, state]);

  const s = state.data;
  if (state.error && !s) return <p className="error">{state.error}</p>;
  if (!s) return <p className="muted">Loading run…</p>;

  const stepsByKey = new Map<string, Step[]>();
  for (const st of s.steps) {
    const l = stepsByKey.get(st.stepKey) ?? [];
    l.push(st);
    stepsByKey.set(st.stepKey, l);
  }
  const nexts = s.findings.map((f) => f.next).filter((n): n is string => !!n);

  return (
    <div className="run" data-testid="run-view" data-run-status={s.run.status} data-done={String(s.done)}>
      <div className="row wrap">
        <h2 className="grow">
          Run #{s.run.id}: {visible(s.run.playbookId)} <span className={`badge status-${s.run.status}`}>{visible(s.run.status)}</span>
        </h2>
        {!s.done && <progress className="inline" />}
        {!s.done && !s.elsewhere && (
          <button disabled={cancel.pending} onClick={() => void cancel.run(() => api.call('runs.cancel', { runId }))} data-testid="cancel-run">
            Cancel run
          </button>
        )}
      </div>
      {cancel.error && <p className="error">{cancel.error}</p>}
      {s.elsewhere && (
        <p className="muted" data-testid="run-elsewhere">
          This run is in progress in another Casefile process (for example <code>casefile run</code> in a terminal): its steps
          and output appear here as they are stored; it can be cancelled only there.
        </p>
      )}
      {s.run.status === 'interrupted' && (
        <p className="warn" data-testid="run-interrupted">
          Casefile stopped while this run was in progress; it was ended when Casefile next started. Steps marked interrupted
          keep the output received until then. If an intrusive step had started, its restore did not run: the findings
          below name the host and the command that undoes it.
        </p>
      )}
      {s.awaiting.map((a) => (
        <Confirm key={a.stepKey} runId={runId} a={a} />
      ))}
      <PlanList
        plan={s.plan}
        statusOf={(key) => (
          <span className="step-status">
            {(stepsByKey.get(key) ?? []).map((st) => (
              <span key={st.id} className={`badge status-${st.status}`} data-testid={`step-status-${key}`} title={st.error ?? ''}>
                {visible(ctx.hostName(st.hostId))}: {st.status}
              </span>
            ))}
          </span>
        )}
      />
      <h3>Steps as run</h3>
      {s.steps.length === 0 && <p className="muted">Nothing has run yet.</p>}
      {s.steps.map((st) => (
        <StepOutput key={st.id} st={st} live={live.get(st.id)} />
      ))}
      <h3>Findings</h3>
      {s.findings.length === 0 && <p className="muted">{s.done ? 'No finding from this run.' : 'Findings appear here as evidence arrives.'}</p>}
      {s.findings.map((f) => (
        <FindingCard key={f.id} f={f} />
      ))}
      {nexts.length > 0 && (
        <section className="card next" data-testid="suggested-next">
          <h3>Suggested next</h3>
          {nexts.map((n, i) => (
            <Markdown key={i} source={n} />
          ))}
        </section>
      )}
    </div>
  );
}

function Confirm({ runId, a }: { runId: number; a: RunState['awaiting'][number] }): ReactNode {
  const api = useApi();
  const [cmd, setCmd] = useState(a.display);
  const act = useAction();
  return (
    <section className="card confirm" data-testid={`confirm-${a.stepKey}`}>
      <h3>
        Confirm: {visible(a.title)} {a.intrusive && <span className="badge warn">intrusive</span>}
      </h3>
      <Markdown source={a.why} />
      <label>
        The exact command (edit it if you need to):
        <textarea className="mono" rows={Math.min(12, cmd.split('\n').length + 1)} value={cmd} onChange={(e) => setCmd(e.target.value)} spellCheck={false} data-testid="confirm-command" />
      </label>
      {act.error && <p className="error">{act.error}</p>}
      <div className="row end">
        <button disabled={act.pending} onClick={() => void act.run(() => api.call('runs.confirm', { runId, stepKey: a.stepKey, accept: false }))}>
          Skip this step
        </button>
        <button
          className="primary"
          disabled={act.pending}
          onClick={() => void act.run(() => api.call('runs.confirm', { runId, stepKey: a.stepKey, accept: true, editedCommand: cmd !== a.display ? cmd : undefined }))}
          data-testid="confirm-run"
        >
          Run it
        </button>
      </div>
    </section>
  );
}

function StepOutput({ st, live }: { st: Step; live: { text: string; clipped: boolean } | undefined }): ReactNode {
  const ctx = useCase();
  // Open while it runs or once output has streamed, until the user folds it.
  const [folded, setFolded] = useState<boolean | undefined>(undefined);
  const open = folded === undefined ? st.status === 'running' || live !== undefined : !folded;
  const setOpen = (o: boolean): void => setFolded(!o);
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [live?.text]);
  const arts = ctx.detail.artifacts.filter((x) => x.stepId === st.id);
  const dur = st.startedNs && st.endedNs ? (BigInt(st.endedNs) - BigInt(st.startedNs)).toString() : undefined;
  return (
    <div className="step" data-testid={`step-${st.id}`} data-status={st.status}>
      <div className="row wrap clickable" onClick={() => setOpen(!open)}>
        <span className={`badge status-${st.status}`}>{st.status}</span>
        <strong className="grow">
          {st.isRestore ? 'restore: ' : ''}
          {visible(st.title)} <span className="muted">on {visible(ctx.hostName(st.hostId))}</span>
        </strong>
        <span className="muted small">
          {st.exitCode !== undefined ? `exit ${st.exitCode}` : st.signal ? `signal ${visible(st.signal)}` : ''} {dur ? showDuration(dur) : ''}
        </span>
      </div>
      {open && (
        <>
          <pre className="command">{visible(st.display || st.command)}</pre>
          {st.restore && (
            <p className="small muted" data-testid={`step-restore-${st.id}`}>
              Undone afterwards by: <code>{visible(st.restore)}</code>
            </p>
          )}
          {st.error && <p className="error">{visible(st.error)}</p>}
          {live && (
            <pre className="output" ref={pre} data-testid="live-output">
              {live.clipped ? '… (earlier output is in the artifact)\n' : ''}
              {visibleLines(live.text)}
            </pre>
          )}
          {arts.length > 0 && (
            <p className="small">
              Evidence:{' '}
              {arts.map((x) => (
                <button key={x.id} className="link" onClick={() => ctx.openArtifact(x.id, 1)}>
                  {visible(x.name)} ({visible(x.kind)}, {x.eventCount} events)
                </button>
              ))}
            </p>
          )}
        </>
      )}
    </div>
  );
}
