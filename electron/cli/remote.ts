import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import { Backend } from '../api/backend';
import { parseDurationMs } from '../../shared/playbook/duration';
import { conclusions } from '../../shared/playbook/state';
import { toJson } from '../store/store';
import { UsageError, err, openStore, out, parse, repoRoot } from './common';

/** The commands that reach hosts over SSH: `run` (a playbook, headless) and `exec` (one recorded command). */

/** Host-key decisions on the terminal: show the fingerprint, ask; refuse when there is no terminal. */
function cliHostKeyDecider(acceptFingerprints: readonly string[]) {
  return async (q: { host: string; port: number; keyType: string; fingerprint: string; knownTypes?: readonly string[] }): Promise<boolean> => {
    if (acceptFingerprints.includes(q.fingerprint)) {
      err(`casefile: accepting ${q.keyType} key ${q.fingerprint} for ${q.host}:${q.port} (--accept-host-key); recorded in known_hosts`);
      return true;
    }
    const what = q.knownTypes?.length ? `a NEW ${q.keyType} key (known_hosts has ${q.knownTypes.join(', ')} for this host)` : `an unknown ${q.keyType} key`;
    if (!process.stdin.isTTY) {
      err(`casefile: ${q.host}:${q.port} presented ${what} with fingerprint ${q.fingerprint}.\n  Not accepted: verify it out of band, then re-run with --accept-host-key ${q.fingerprint}`);
      return false;
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const a = await rl.question(`The authenticity of host ${q.host}:${q.port} can't be established.\n${q.keyType} key fingerprint is ${q.fingerprint} (${what}).\nAccept and record it in known_hosts? (yes/no) `);
      return a.trim().toLowerCase() === 'yes';
    } finally {
      rl.close();
    }
  };
}

async function askOnTty(prompt: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    // Do not echo secrets.
    const w = (rl as unknown as { _writeToOutput?: (s: string) => void });
    w._writeToOutput = () => {};
    process.stderr.write(prompt);
    const a = await rl.question('');
    process.stderr.write('\n');
    return a;
  } finally {
    rl.close();
  }
}

function makeBackend(values: { 'data-dir'?: string | undefined }, accept: readonly string[] = []) {
  const { db, file } = openStore(values);
  // Headless: host keys, passphrases and passwords are asked on the terminal (never stored).
  const backend = new Backend({
    db,
    dbFile: file,
    playbookDir: join(repoRoot, 'playbooks'),
    prompts: {
      onUnknownHostKey: cliHostKeyDecider(accept),
      askPassphrase: (k) => askOnTty(`Enter passphrase for key '${k}': `),
      askPassword: (p) => askOnTty(p),
    },
    onLog: (l) => err(`casefile: ${l}`),
  });
  return { backend, db };
}

const indent = (md: string): string => md.trim().split('\n').map((l) => `  ${l}`).join('\n');

function hostNameFor(dest: string): string {
  return dest;
}

export async function cmdRun(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    host: { type: 'string', multiple: true },
    server: { type: 'string', multiple: true },
    param: { type: 'string', multiple: true },
    case: { type: 'string' },
    yes: { type: 'boolean' },
    'accept-host-key': { type: 'string', multiple: true },
  });
  if (positionals.length !== 1) throw new UsageError('run takes exactly one PLAYBOOK');
  const dests = [...(values.host ?? []), ...(values.server ?? [])];
  if (dests.length === 0) throw new UsageError('run needs --host DEST (clients; repeat for several) and/or --server DEST (NFS servers)');
  const params: Record<string, string> = {};
  for (const p of values.param ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--param ${JSON.stringify(p)}: expected name=value`);
    params[p.slice(0, i)] = p.slice(i + 1);
  }
  const { backend, db } = makeBackend(values, values['accept-host-key'] ?? []);
  try {
    const caseName = values.case ?? `${positionals[0]}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;
    const c = backend.store.ensureCase(caseName);
    const hosts = dests.map((d) => backend.store.upsertHost(c.id, { name: hostNameFor(d), destination: d }));
    const roles: Record<string, 'client' | 'server' | 'both'> = {};
    for (const h of hosts) {
      const isClient = values.host?.includes(h.destination) ?? false;
      const isServer = values.server?.includes(h.destination) ?? false;
      roles[String(h.id)] = isClient && isServer ? 'both' : isServer ? 'server' : 'client';
    }
    // Fill in the resolved address for the report.
    for (const h of hosts) {
      try {
        await backend.call('hosts.add', { caseId: c.id, destination: h.destination, name: h.name });
      } catch (e) {
        err(`casefile run: ${h.name}: ${(e as Error).message}`);
        return 1;
      }
    }
    const runner = backend.runner;
    const lines = new Map<string, string>();
    runner.setOutputSink((o) => {
      if (!process.env.CASEFILE_QUIET) {
        const key = `${o.host}/${o.stepKey}/${o.stream}`;
        const text = (lines.get(key) ?? '') + o.chunk.toString('utf8');
        const parts = text.split('\n');
        lines.set(key, parts.pop() ?? '');
        for (const l of parts) process.stderr.write(`  ${o.host} ${o.stream === 'stderr' ? '!' : '|'} ${l}\n`);
      }
    });
    const runId = await runner.start({ caseId: c.id, playbookId: positionals[0]!, hostIds: hosts.map((h) => h.id), params, autoConfirm: values.yes ?? false, headless: true, roles });
    err(`casefile: run ${runId} of ${positionals[0]} in case ${c.name} on ${hosts.map((h) => h.name).join(', ')}`);
    // Progress from the run's own state on every change (not polling): each host's step as it starts and ends.
    const shown = new Set<string>();
    const report = () => {
      const st = runner.state(runId);
      const run = runner.runState(runId);
      if (!st || !run) return;
      for (const s of run.steps) {
        const step = run.playbook.steps.find((x) => x.id === s.id)!;
        for (const h of s.hosts) {
          const key = `${s.id}/${h.host}/${h.status}/${h.restore}`;
          if (shown.has(key) || h.status === 'pending') continue;
          shown.add(key);
          if (h.status === 'running') err(`▶ ${step.title} [${h.host}]\n    $ ${h.command?.display.split('\n').join('\n      ') ?? ''}`);
          else if (h.status !== 'awaiting-confirmation') {
            err(`  ${h.status === 'ok' ? '✓' : h.status === 'skipped' ? '–' : '✗'} ${step.title} [${h.host}]: ${h.status}${h.reason ? ` (${h.reason})` : ''}${h.restore !== 'none' ? `; restore ${h.restore}` : ''}`);
          }
        }
      }
      // Headless without --yes: intrusive steps are asked on the terminal, or skipped with a note.
      for (const a of st.awaiting) {
        const key = `confirm/${a.stepKey}`;
        if (shown.has(key)) continue;
        shown.add(key);
        void (async () => {
          let ok = false;
          if (process.stdin.isTTY) {
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            const ans = await rl.question(`Intrusive step "${a.title}" will run:\n  ${a.display}\nRun it? (yes/no) `);
            rl.close();
            ok = ans.trim().toLowerCase() === 'yes';
          } else err(`  – skipping intrusive step "${a.title}": not confirmed (use --yes to run intrusive steps headless)`);
          runner.confirm(runId, a.stepKey, ok);
        })();
      }
    };
    const off = backend.onEvent((event, payload) => {
      if (event === 'run.updated' && (payload as { runId: number }).runId === runId) report();
      if (event === 'hostkey.prompt') report();
    });
    report();
    const onSig = () => {
      err('casefile: cancelling (restore steps still run)…');
      runner.cancel(runId);
    };
    process.once('SIGINT', onSig);
    await runner.wait(runId);
    report();
    off();
    process.off('SIGINT', onSig);
    const run = backend.store.getRun(runId)!;
    const findings = backend.store.listFindings(c.id);
    err(`casefile: run ${runId} ${run.status}; ${findings.length} finding(s)`);
    for (const f of findings) err(`  [${f.severity}] ${f.rule}: ${f.title}`);
    const state = runner.runState(runId);
    if (state) {
      for (const c of conclusions(state)) {
        err(`\n${c.title}\n${indent(c.remediation)}`);
        if (c.tradeoffs) err(`  Trade-offs:\n${indent(c.tradeoffs)}`);
      }
      if (state.suggestedPlaybook) err(`\nsuggested next playbook: casefile run ${state.suggestedPlaybook} --host ...`);
    }
    out(toJson({ case: c.name, run: runId, status: run.status, findings: findings.map((f) => ({ rule: f.rule, title: f.title, severity: f.severity })) }));
    return run.status === 'done' ? 0 : 1;
  } finally {
    await backend.dispose();
    db.close();
  }
}

export async function cmdExec(args: readonly string[]): Promise<number> {
  const dd = args.indexOf('--');
  if (dd === -1 || dd === args.length - 1) throw new UsageError('exec needs -- CMD ARG... after its options');
  const { values, positionals } = parse(args.slice(0, dd), { host: { type: 'string' }, case: { type: 'string' }, timeout: { type: 'string' }, kind: { type: 'string' }, 'accept-host-key': { type: 'string', multiple: true } }, false);
  void positionals;
  if (!values.host) throw new UsageError('exec needs --host DEST');
  const timeoutMs = values.timeout === undefined ? 30_000 : parseDurationMs(values.timeout);
  if (timeoutMs === undefined) throw new UsageError(`--timeout ${JSON.stringify(values.timeout)}: expected a duration like 30s, 500ms, 2m`);
  const argv = args.slice(dd + 1);
  const { backend, db } = makeBackend(values, values['accept-host-key'] ?? []);
  try {
    const c = backend.store.ensureCase(values.case ?? 'adhoc');
    await backend.call('hosts.add', { caseId: c.id, destination: values.host, name: values.host });
    const host = backend.store.listHosts(c.id).find((h) => h.name === values.host)!;
    backend.runner.setOutputSink((o) => void (o.stream === 'stdout' ? process.stdout : process.stderr).write(o.chunk));
    const stepId = await backend.runner.execAdhoc({ caseId: c.id, host, argv, timeoutMs, kind: values.kind ?? 'auto', wait: true });
    const st = backend.store.getStep(stepId)!;
    err(`casefile: step ${stepId} in case ${c.name}: ${st.status}${st.exitCode !== undefined ? `, exit ${st.exitCode}` : ''}${st.error ? ` (${st.error})` : ''}`);
    if (st.stuck) err(`casefile: the command was stuck: ${JSON.stringify(st.stuck)}`);
    return st.status === 'ok' ? 0 : st.exitCode !== undefined && st.exitCode > 0 && st.exitCode < 126 ? st.exitCode : 1;
  } finally {
    await backend.dispose();
    db.close();
  }
}

