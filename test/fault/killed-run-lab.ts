/**
 * A playbook run in a child process (test/fault/run-child.ts, the app's backend) against a lab sshd, to be killed
 * mid-step: shared by the fault test (test/fault/run-killed.test.ts) and the browser test of what the user then
 * sees (test/e2e/interrupted-run.test.ts). The playbook's `change` step touches MARK/changed, prints `started`
 * and sleeps far past its 6 s deadline; its restore would remove the mark and touch MARK/restored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../lab/proc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** A sleep length no other test uses, to find the remote command among the host's processes. */
export const SLEEP = '31.7';
export const STEP_TIMEOUT_S = 6;

export function killProbePlaybook(mark: string): string {
  return `id: kill-probe
title: Kill probe
summary: A step that finishes, an intrusive step that changes the host and is undone by its restore, and one more.
symptoms:
  - test
steps:
  - id: first
    title: Before
    why: Completes before the kill.
    run:
      argv: [echo, before]
    timeout: 10s
    captures: text
  - id: change
    title: Change the host, then wait
    why: Turns something on that only the restore turns off.
    run:
      script: "touch ${mark}/changed; echo started; sleep ${SLEEP}; echo never"
    intrusive: true
    timeout: ${STEP_TIMEOUT_S}s
    restore:
      script: "rm -f ${mark}/changed; touch ${mark}/restored"
      timeout: 10s
    captures: text
  - id: after
    title: After
    why: Never reached.
    run:
      argv: [echo, after]
    timeout: 10s
    captures: text
`;
}

/** PIDs of processes running `sleep SLEEP` (the step's remote command). */
export function remoteSleeps(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1') === `sleep\0${SLEEP}\0`) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Write the playbook under `dir` (playbooks/, mark/); returns the playbook folder and the mark folder. */
export function prepareKillProbe(dir: string): { playbookDir: string; mark: string } {
  const playbookDir = path.join(dir, 'playbooks');
  const mark = path.join(dir, 'mark');
  mkdirSync(playbookDir, { recursive: true });
  mkdirSync(mark, { recursive: true });
  writeFileSync(path.join(playbookDir, 'kill-probe.yaml'), killProbePlaybook(mark));
  return { playbookDir, mark };
}

export interface RunChild {
  readonly child: ChildProcess;
  readonly runId: number;
  output(): string;
  /** SIGKILL, and wait until it has exited. */
  kill(): Promise<void>;
}

/** Start the run in a child and wait until the `change` step has streamed its first line (bounded, 30 s). */
export async function startRunChild(o: { dbFile: string; home: string; playbookDir: string; alias: string }): Promise<RunChild> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'run-ts.mjs'), path.join(root, 'test', 'fault', 'run-child.ts'), o.dbFile, o.home, o.playbookDir, o.alias], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await waitFor('the change step to stream "started"', () => out.includes('STARTED') || child.exitCode !== null, 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  if (!out.includes('STARTED')) throw new Error(`run-child ended before the change step started:\n${out}`);
  return {
    child,
    runId: Number(/^RUN (\d+)$/m.exec(out)![1]),
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
