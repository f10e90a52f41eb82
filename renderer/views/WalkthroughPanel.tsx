import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import type { Output, PlannedStep } from '../../shared/api/contract';
import { useApi } from '../api/context';
import { Markdown } from '../markdown/Markdown';
import { useAction, useLoad } from '../util/hooks';
import { visible } from '../util/text';
import { showNs } from '../util/time';
import { useCase } from './caseContext';
import { RunView } from './RunView';
import { HOST_ROLES, rolesInput, stepHosts, unreachedReason, type HostRole, type RunHost } from '../playbook/roles';

// Monaco is large: the editor loads only when someone opens a playbook in it.
const PlaybookEditor = lazy(() => import('./PlaybookEditor'));

type Param = Output<'playbooks.get'>['parameters'][number];

/** Pick a playbook, fill its typed parameters, choose hosts, read the plan, start; then follow the run. */
export function WalkthroughPanel(): ReactNode {
  const ctx = useCase();
  const runs = ctx.detail.runs;
  const [runId, setRunId] = useState<number | undefined>(() => (runs.length ? runs[runs.length - 1]!.id : undefined));
  const [starting, setStarting] = useState(runs.length === 0);

  return (
    <div className="walkthrough">
      <div className="row wrap">
        <button className={starting ? 'active' : ''} onClick={() => setStarting(true)} data-testid="new-run">
          New run…
        </button>
        {runs.length > 0 && (
          <label>
            Run{' '}
            <select
              value={starting ? '' : String(runId ?? '')}
              onChange={(e) => {
                setRunId(Number(e.target.value));
                setStarting(false);
              }}
              data-testid="run-select"
            >
              {starting && <option value="">—</option>}
              {[...runs].reverse().map((r) => (
                <option key={r.id} value={r.id}>
                  #{r.id} {visible(r.playbookId)} · {visible(r.status)} · {showNs(r.startedNs, ctx.zone, 0)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {starting ? (
        <StartRun
          onStarted={(id) => {
            setRunId(id);
            setStarting(false);
            ctx.reload();
          }}
        />
      ) : runId !== undefined ? (
        <RunView key={runId} runId={runId} />
      ) : null}
      {!starting && runId === undefined && <p className="muted">No runs yet.</p>}
    </div>
  );
}

function StartRun({ onStarted }: { onStarted: (runId: number) => void }): ReactNode {
  const api = useApi();
  const ctx = useCase();
  const playbooks = useLoad(() => api.call('playbooks.list', {}), []);
  // The user's choice; until there is one, the default is derived in the same render as the list (an effect
  // setting it later could override a choice made in between).
  const [chosen, setPbId] = useState('');
  const pbId = chosen || (playbooks.data?.find((p) => p.id === 'host-snapshot' && !p.error)?.id ?? playbooks.data?.find((p) => !p.error)?.id ?? '');
  const [values, setValues] = useState<Record<string, string>>({});
  const [hostIds, setHostIds] = useState<readonly number[]>(() => ctx.detail.hosts.map((h) => h.id).slice(0, 1));
  const [roles, setRoles] = useState<Readonly<Record<number, HostRole>>>({});
  const [editing, setEditing] = useState(false);
  const [plan, setPlan] = useState<readonly PlannedStep[] | undefined>(undefined);
  const book = useLoad(async () => (pbId ? api.call('playbooks.get', { id: pbId }) : undefined), [pbId]);
  const planAct = useAction();
  const start = useAction();

  useEffect(() => {
    const init: Record<string, string> = {};
    for (const p of book.data?.parameters ?? []) {
      if (p.default !== undefined) init[p.name] = String(p.default);
      else if (p.type === 'enum' && p.values?.length) init[p.name] = p.values[0]!;
    }
    setValues(init);
    setPlan(undefined);
  }, [book.data]);

  // The plan follows the parameters: every command is shown exactly before anything runs. An answer for an
  // earlier playbook or earlier values (still in flight when the user changed them) is dropped.
  const planSeq = useRef(0);
  useEffect(() => {
    if (!pbId) return;
    const my = ++planSeq.current;
    const t = setTimeout(() => {
      void planAct.run(async () => {
        const p = await api.call('playbooks.plan', { id: pbId, params: withHosts(values) });
        if (my === planSeq.current) setPlan(p);
      });
    }, 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pbId, values, hostIds]);

  const hostNames = (ids: readonly number[]): string => ids.map((id) => ctx.hostName(id)).join(',');
  const withHosts = (v: Record<string, string>): Record<string, string> => {
    const out = { ...v };
    for (const p of book.data?.parameters ?? []) if (p.type === 'hosts' && out[p.name] === undefined) out[p.name] = hostNames(hostIds);
    return out;
  };

  const selected = playbooks.data?.find((p) => p.id === pbId);
  const runHosts: RunHost[] = hostIds.map((id) => ({ id, name: ctx.hostName(id), role: roles[id] ?? 'client' }));
  const params = book.data?.parameters ?? [];
  const hostsOf = (on: string): string[] => stepHosts(on, runHosts, params, withHosts(values));
  if (editing && pbId) {
    return (
      <Suspense fallback={<p className="muted">Loading the editor…</p>}>
        <PlaybookEditor playbookId={pbId} onClose={() => setEditing(false)} />
      </Suspense>
    );
  }
  return (
    <section className="card" data-testid="start-run">
      <h2>Start a playbook</h2>
      {playbooks.error && <p className="error">{playbooks.error}</p>}
      <div className="row wrap">
        <label>
          Playbook{' '}
          <select value={pbId} onChange={(e) => setPbId(e.target.value)} data-testid="playbook-select">
            {(playbooks.data ?? []).map((p) => (
              <option key={p.id} value={p.id} disabled={!!p.error}>
                {p.id} — {p.title}
                {p.error ? ' (invalid)' : ''}
              </option>
            ))}
          </select>
        </label>
        {pbId && (
          <button onClick={() => setEditing(true)} title="Open this playbook's YAML in an editor with schema checks" data-testid="edit-playbook">
            Edit
          </button>
        )}
      </div>
      {selected && (
        <div className="muted">
          <Markdown source={selected.summary} />
          {selected.symptoms.length > 0 && <p className="small">Fits: {selected.symptoms.map(visible).join('; ')}</p>}
        </div>
      )}
      {book.error && <p className="error">{book.error}</p>}
      <h3>Hosts</h3>
      {ctx.detail.hosts.length === 0 && <p className="muted">Add a host first (Hosts tab).</p>}
      <div className="row wrap host-roles">
        {ctx.detail.hosts.map((h) => (
          <span key={h.id} className="host-role">
            <label>
              <input
                type="checkbox"
                checked={hostIds.includes(h.id)}
                onChange={(e) => setHostIds(e.target.checked ? [...hostIds, h.id] : hostIds.filter((x) => x !== h.id))}
                data-testid={`run-host-${h.name}`}
              />{' '}
              {visible(h.name)}
            </label>{' '}
            <select
              value={roles[h.id] ?? 'client'}
              disabled={!hostIds.includes(h.id)}
              onChange={(e) => setRoles({ ...roles, [h.id]: e.target.value as HostRole })}
              title="Steps marked on: clients run on clients and both; on: servers on servers and both"
              aria-label={`Role of ${h.name}`}
              data-testid={`run-role-${h.name}`}
            >
              {HOST_ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </span>
        ))}
      </div>
      {(book.data?.parameters.length ?? 0) > 0 && <h3>Parameters</h3>}
      <div className="params">
        {(book.data?.parameters ?? []).map((p) => (
          <ParamInput key={p.name} p={p} value={values[p.name] ?? ''} onChange={(v) => setValues({ ...values, [p.name]: v })} hosts={ctx.detail.hosts.map((h) => h.name)} />
        ))}
      </div>
      {planAct.error && <p className="error">{planAct.error}</p>}
      {plan && <PlanList plan={plan} hostsOf={hostIds.length > 0 ? hostsOf : undefined} unreached={(on) => unreachedReason(on, runHosts)} />}
      <div className="row end">
        <button
          className="primary"
          disabled={!pbId || hostIds.length === 0 || start.pending || !!planAct.error}
          onClick={() =>
            void start.run(async () => {
              const r = await api.call('runs.start', { caseId: ctx.caseId, playbookId: pbId, hostIds: [...hostIds], params: withHosts(values), roles: rolesInput(runHosts) });
              onStarted(r.runId);
            })
          }
          data-testid="start-run-button"
        >
          {start.pending ? 'Starting…' : 'Start run'}
        </button>
      </div>
      {start.error && <p className="error">{start.error}</p>}
    </section>
  );
}

function ParamInput({ p, value, onChange, hosts }: { p: Param; value: string; onChange: (v: string) => void; hosts: readonly string[] }): ReactNode {
  const id = `param-${p.name}`;
  let input: ReactNode;
  switch (p.type) {
    case 'enum':
      input = (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={id}>
          {(p.values ?? []).map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      );
      break;
    case 'host':
      input = (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={id}>
          <option value="">—</option>
          {hosts.map((h) => (
            <option key={h}>{h}</option>
          ))}
        </select>
      );
      break;
    case 'pid':
    case 'int':
      input = <input id={id} inputMode="numeric" value={value} onChange={(e) => onChange(e.target.value)} pattern="-?[0-9]*" data-testid={id} />;
      break;
    default:
      input = <input id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={id} placeholder={p.type === 'duration' ? 'e.g. 20s' : p.type === 'hosts' ? 'host names, comma separated (default: the hosts above)' : ''} />;
  }
  return (
    <div className="param">
      <label htmlFor={id}>
        <span className="mono">{p.name}</span> <span className="muted small">({p.type}{p.required ? ', required' : ''})</span>
      </label>
      {input}
      {p.description && <span className="muted small">{visible(p.description)}</span>}
    </div>
  );
}

export function PlanList({
  plan,
  statusOf,
  hostsOf,
  unreached,
}: {
  plan: readonly PlannedStep[];
  statusOf?: (stepKey: string) => ReactNode;
  /** Which of the selected hosts a step's `on:` reaches (given before a run, from the roles chosen). */
  hostsOf?: ((on: string) => readonly string[]) | undefined;
  unreached?: (on: string) => string | undefined;
}): ReactNode {
  return (
    <ol className="plan" data-testid="plan">
      {plan.map((s) => (
        <li key={s.stepKey} className="plan-step" data-testid={`plan-step-${s.stepKey}`}>
          <div className="row wrap">
            <strong className="grow">{visible(s.title)}</strong>
            {s.intrusive && <span className="badge warn">intrusive: asks first</span>}
            <span className="muted small">on {visible(s.on)} · timeout {Math.round(s.timeoutMs / 1000)} s · captures {visible(s.captures)}</span>
            {statusOf?.(s.stepKey)}
          </div>
          {hostsOf && <StepHosts hosts={hostsOf(s.on)} reason={unreached?.(s.on)} stepKey={s.stepKey} />}
          <Markdown source={s.why} className="why" />
          <pre className="command" data-testid="planned-command">
            {visible(s.display)}
          </pre>
          {s.error && <p className="error">{visible(s.error)}</p>}
          {(s.rulesIn.length > 0 || s.rulesOut.length > 0) && (
            <p className="small">
              {s.rulesIn.length > 0 && <span>Can confirm: {s.rulesIn.map(visible).join('; ')} </span>}
              {s.rulesOut.length > 0 && <span>Can rule out: {s.rulesOut.map(visible).join('; ')}</span>}
            </p>
          )}
          {s.requires.length > 0 && (
            <p className="muted small">
              Needs {s.requires.map((r) => `${visible(r.command)} (${visible(r.package)})`).join(', ')}
              {s.hasRestore ? '; a restore step undoes its changes' : ''}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}

function StepHosts({ hosts, reason, stepKey }: { hosts: readonly string[]; reason: string | undefined; stepKey: string }): ReactNode {
  return (
    <p className={`small ${hosts.length === 0 ? 'warn' : 'muted'}`} data-testid={`plan-hosts-${stepKey}`}>
      {hosts.length > 0 ? `Runs on: ${hosts.map(visible).join(', ')}` : `Runs on no host: ${reason ?? 'none selected'}`}
    </p>
  );
}
