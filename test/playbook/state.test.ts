import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseText } from '../../shared/parsers';
import { loadPlaybookOrThrow } from '../../shared/playbook/load';
import { parseMissingCommands } from '../../shared/playbook/render';
import {
  applyRestoreResult, applyResult, cancelRun, conclusions, confirmStep, createRun, nextAction, nextActions, skipStep, startAction, type Action, type RunState,
} from '../../shared/playbook/state';

const pb = (id: string) => loadPlaybookOrThrow(readFileSync(join(__dirname, '..', '..', 'playbooks', `${id}.yaml`), 'utf8'), id);
const psLab = readFileSync(join(__dirname, '..', 'fixtures', 'evidence', 'lab-stuck', 'flock-ps-during-strace.txt'), 'utf8');

type Exec = Extract<Action, { type: 'exec' | 'restore' }>;
const execs = (s: RunState): Exec[] => nextActions(s).filter((a): a is Exec => a.type === 'exec' || a.type === 'restore');

/** Run every runnable action with exit 0 and no events, until nothing is runnable. */
function drain(s0: RunState, t0: bigint, result = { exitCode: 0 }): RunState {
  let s = s0;
  let t = t0;
  for (let guard = 0; guard < 200; guard++) {
    const a = execs(s);
    if (a.length === 0) return s;
    for (const x of a) {
      s = startAction(s, x.id, t++);
      s = x.type === 'exec' ? applyResult(s, x.stepId, x.host, result, [], t++) : applyRestoreResult(s, x.stepId, x.host, { exitCode: 0 }, t++);
    }
  }
  throw new Error('did not settle');
}

describe('run state machine', () => {
  it('runs host-snapshot on two hosts, extracting D-state pids per host, deterministically', () => {
    const run = () => {
      let s = createRun(pb('host-snapshot'), {}, [{ name: 'web-1' }, { name: 'web-2' }], { now: 1n });
      const first = execs(s);
      expect(first.map((a) => `${a.stepId}@${a.host}`)).toEqual(['host-info@web-1', 'host-info@web-2']);
      expect(first[0]!.remote).toBe(`exec sh -c 'uname -a; cat /proc/uptime; date +%s.%N'`);
      expect(first[0]!.timeoutMs).toBe(10_000);
      s = drain(s, 10n); // host-info done, now processes is runnable
      const ps = execs(s).find((a) => a.stepId === 'processes');
      expect(ps).toBeUndefined(); // drain ran everything: the run is over
      return s;
    };
    const a = run();
    expect(a.phase).toBe('done');
    expect(a.steps.every((st) => st.status === 'ok')).toBe(true);
    expect(run()).toEqual(a);
  });

  it('extracts values from parsed events and renders them, host by host', () => {
    let s = createRun(pb('nfs-triage'), {}, [{ name: 'lab-a', role: 'client' }, { name: 'filer', role: 'server' }], { now: 0n });
    s = drain(s, 1n); // host-info on both
    expect(s.steps[0]!.status).toBe('ok');
    // processes runs on clients only.
    expect(s.steps[1]!.hosts.map((h) => h.host)).toEqual(['lab-a']);
  });

  it('feeds ps events to extract, and the stack step loops over the extracted pids', () => {
    let s = createRun(pb('nfs-triage'), {}, [{ name: 'lab-a', role: 'client' }], { now: 0n });
    let a = execs(s)[0]!;
    s = applyResult(startAction(s, a.id, 1n), a.stepId, a.host, { exitCode: 0 }, [], 2n);
    a = execs(s)[0]!;
    expect(a.stepId).toBe('processes');
    const events = parseText('ps', psLab).events;
    expect(events.some((e) => e.pid === 15555)).toBe(true);
    s = applyResult(startAction(s, a.id, 3n), a.stepId, a.host, { exitCode: 0 }, events, 4n);
    expect(s.extracted['lab-a']?.d_state_pids).toEqual(['15555']);
    const stack = execs(s)[0]!;
    expect(stack.stepId).toBe('stacks');
    expect(stack.command.script).toBe(`for p in '15555'; do echo "==> /proc/$p/stack <=="; cat "/proc/$p/stack"; done`);
    expect(stack.remote).toMatch(/^if \[ "\$\(id -u\)" = 0 \]; then exec sh -c .*; else exec sudo -n sh -c .*; fi$/);
  });

  it('a sudo step runs as is when the host session is root already (no sudo needed or installed)', async () => {
    const { remoteCommand } = await import('../../shared/playbook/render');
    const { spawnSync } = await import('node:child_process');
    const remote = remoteCommand({ script: 'id -u; echo ran', display: '' }, { sudo: true });
    const r = spawnSync('sh', ['-c', remote], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    if (process.getuid?.() === 0) {
      expect(r.stdout).toBe('0\nran\n');
      expect(r.status).toBe(0);
    } else {
      // Not root: it asks sudo without prompting, so it either runs as root or fails fast.
      expect(r.stdout === '0\nran\n' || r.status !== 0).toBe(true);
    }
  });

  it('skips a step whose extracted list is empty, with the reason', () => {
    let s = createRun(pb('nfs-triage'), {}, [{ name: 'lab-a' }], { now: 0n });
    s = drain(s, 1n);
    const stacks = s.steps.find((x) => x.id === 'stacks')!;
    expect(stacks.status).toBe('skipped');
    expect(stacks.hosts[0]!.reason).toMatch(/d_state_pids.*no value/);
  });

  it('asks before intrusive steps, and runs restore after a timeout; restore precedes the next step', () => {
    let s = createRun(pb('rpc-slot-exhaustion'), {}, [{ name: 'web-1' }], { now: 0n });
    s = drain(s, 1n); // two mountstats samples
    const ask = nextAction(s);
    expect(ask.type).toBe('confirm');
    if (ask.type !== 'confirm') return;
    expect(ask.stepId).toBe('rpc-tasks');
    expect(ask.hosts[0]!.command.display).toContain('rpcdebug -m rpc -s xprt');
    s = confirmStep(s, 'rpc-tasks', 100n);
    const x = execs(s)[0]!;
    expect(x.remote).toContain("for c in 'rpcdebug'");
    s = applyResult(startAction(s, x.id, 101n), 'rpc-tasks', 'web-1', { timedOut: true }, [], 102n);
    const next = execs(s);
    expect(next.map((a) => a.type)).toEqual(['restore']);
    expect(next[0]!.command.argv).toEqual(['rpcdebug', '-m', 'rpc', '-c', 'all']);
    expect(nextAction(s).type).toBe('restore');
    s = applyRestoreResult(startAction(s, next[0]!.id, 103n), 'rpc-tasks', 'web-1', { exitCode: 0 }, 104n);
    const st = s.steps.find((q) => q.id === 'rpc-tasks')!;
    expect(st.hosts[0]!.status).toBe('timed-out');
    expect(st.hosts[0]!.restore).toBe('ok');
    expect(nextAction(s).type).toBe('confirm'); // the capture step, after the restore
  });

  it('declining skips; a missing command is a clear failure naming the package', () => {
    let s = createRun(pb('rpc-slot-exhaustion'), {}, [{ name: 'web-1' }], { now: 0n });
    s = drain(s, 1n);
    s = skipStep(s, 'rpc-tasks', 10n, 'declined');
    s = confirmStep(s, 'capture', 11n);
    const x = execs(s)[0]!;
    const stderr = 'casefile-missing-commands: tcpdump\n';
    expect(parseMissingCommands(stderr)).toEqual(['tcpdump']);
    s = applyResult(startAction(s, x.id, 12n), 'capture', 'web-1', { exitCode: 127, stderr }, [], 13n);
    const cap = s.steps.find((q) => q.id === 'capture')!;
    expect(cap.hosts[0]!.status).toBe('failed');
    expect(cap.hosts[0]!.reason).toBe('missing command tcpdump (tcpdump)');
    expect(s.steps.find((q) => q.id === 'rpc-tasks')!.status).toBe('skipped');
  });

  it('a sudo step sudo refused is "needs root", even when its exit status is one ok_exit accepts', () => {
    // nlm-lock-recovery's first sudo step (nsm-state) accepts exit 1, which is also what sudo exits with when it refuses.
    const outcomeOf = (stderr: string, exitCode: number) => {
      let r = createRun(pb('nlm-lock-recovery'), {}, [{ name: 'filer', role: 'server' }], { now: 0n, autoConfirm: true });
      for (let t = 1n; t < 100n; t++) {
        const a = execs(r)[0];
        if (a === undefined) break;
        r = startAction(r, a.id, t);
        const step = r.playbook.steps.find((x) => x.id === a.stepId)!;
        if (a.type === 'exec' && step.sudo) {
          expect(step.ok_exit).toContain(1);
          r = applyResult(r, a.stepId, a.host, { exitCode, stderr }, [], t);
          return { step, host: r.steps.find((x) => x.id === a.stepId)!.hosts.find((h) => h.host === a.host)! };
        }
        r = a.type === 'exec' ? applyResult(r, a.stepId, a.host, { exitCode: 0 }, [], t) : applyRestoreResult(r, a.stepId, a.host, { exitCode: 0 }, t);
      }
      throw new Error('no sudo step ran');
    };
    const pw = outcomeOf('@@casefile-pid=42@@\nsudo: a password is required\n', 1);
    expect(pw.host.status).toBe('failed');
    expect(pw.host.needsRoot).toBe(true);
    expect(pw.host.reason).toMatch(/^needs root: .*sudo -n wants a password/);
    const missing = outcomeOf('sh: 1: exec: sudo: not found\n', 127);
    expect(missing.host.needsRoot).toBe(true);
    expect(missing.host.reason).toMatch(/sudo is not installed/);
    // The same words printed by the command itself on stdout do not count, nor a clean exit.
    const fine = outcomeOf('', 0);
    expect(fine.host.status).toBe('ok');
    expect(fine.host.needsRoot).toBeUndefined();
    const quoted = outcomeOf('grep: warning: sudo: a password is required\n', 2);
    expect(quoted.host.needsRoot).toBeUndefined();
  });

  it('headless --yes runs intrusive steps without asking; branches follow findings', () => {
    let s = createRun(pb('nfs-triage'), {}, [{ name: 'lab-a' }], { now: 0n, autoConfirm: true });
    let t = 1n;
    while (s.phase === 'running') {
      const a = execs(s);
      if (a.length === 0) break;
      for (const x of a) {
        s = startAction(s, x.id, t++);
        s = applyResult(s, x.stepId, x.host, { exitCode: 0 }, [], t++, x.stepId === 'mountstats' ? { findings: ['nlm.statd-unavailable'] } : {});
      }
    }
    expect(s.phase).toBe('done');
    expect(s.suggestedPlaybook).toBe('stuck-process');
    expect(s.steps.find((q) => q.id === 'mountstats')!.decision).toMatch(/continue with playbook stuck-process/);
    expect(conclusions(s).map((c) => c.id)).toEqual(['lock-stuck']);
  });

  it('cancel: nothing new starts, running steps report cancelled, their restores still run', () => {
    let s = createRun(pb('nfs4-lock-delay'), { pid: 42 }, [{ name: 'a' }], { now: 0n, autoConfirm: true });
    while (execs(s)[0]?.stepId !== 'callback-debug') {
      const x = execs(s)[0]!;
      s = applyResult(startAction(s, x.id, 1n), x.stepId, x.host, { exitCode: 0 }, [], 2n);
    }
    const x = execs(s)[0]!;
    s = startAction(s, x.id, 3n);
    s = cancelRun(s, 4n);
    expect(s.phase).toBe('cancelling');
    expect(nextActions(s)).toEqual([{ type: 'wait' }]);
    s = applyResult(s, x.stepId, x.host, { cancelled: true }, [], 5n);
    const r = execs(s);
    expect(r.map((a) => a.type)).toEqual(['restore']);
    s = applyRestoreResult(startAction(s, r[0]!.id, 6n), x.stepId, x.host, { exitCode: 0 }, 7n);
    expect(s.phase).toBe('cancelled');
    expect(nextAction(s)).toEqual({ type: 'done', phase: 'cancelled' });
    expect(s.log.map((l) => l.type)).toContain('restore-ok');
  });

  it('validates parameters before anything runs', () => {
    expect(() => createRun(pb('stuck-process'), {}, [{ name: 'a' }])).toThrow(/parameter pid \(pid\) is required/);
    expect(() => createRun(pb('stuck-process'), { pid: '12', lock_wait: '1d' }, [{ name: 'a' }])).toThrow(/lock_wait must be a duration/);
    expect(() => createRun(pb('stuck-process'), { pid: '12', lock_file: 'relative/x' }, [{ name: 'a' }])).toThrow(/absolute path/);
    expect(() => createRun(pb('stuck-process'), { pid: '12', nope: 1 }, [{ name: 'a' }])).toThrow(/unknown parameter "nope"/);
    const s = createRun(pb('stuck-process'), { pid: '12', lock_file: "/mnt/nfs/it's here" }, [{ name: 'a' }], { autoConfirm: true });
    expect(s.bindings.lock_file!.value).toBe("/mnt/nfs/it's here");
  });
});
