import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkScalar, type ValueDef } from '../../shared/playbook/params';
import { RenderError, remoteCommand, renderRun, type Bindings, type Rendered } from '../../shared/playbook/render';
import { buildRemoteCommand } from '../../electron/ssh/exec';
import { checkScriptTemplate } from '../../shared/playbook/template';
import { bindParams, createRun, RunInputError } from '../../shared/playbook/state';
import type { Playbook } from '../../shared/playbook/schema';

/**
 * Parameter injection corpus: every payload against every parameter type, in argv and script templates. A
 * payload is either rejected by typed validation, or rendered so that running the script with `sh -c` in a
 * temp dir never creates the canary file and the value arrives as exactly the text given.
 */

const dir = mkdtempSync(join(tmpdir(), 'casefile-inj-'));
const canary = join(dir, 'CANARY');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const C = canary;
const PAYLOADS: readonly string[] = [
  `1; touch ${C}`, `; touch ${C}`, `1 && touch ${C}`, `1 || touch ${C}`, `1 | touch ${C}`, `$(touch ${C})`, `\`touch ${C}\``,
  `1\ntouch ${C}`, `1\rtouch ${C}`, `1\u0000touch ${C}`, `'; touch ${C}; '`, `"; touch ${C}; "`, `'$(touch ${C})'`, `"$(touch ${C})"`,
  `\\'; touch ${C}; \\'`, `x' ; touch ${C} ; echo '`, `/tmp/x; touch ${C}`, `/tmp/$(touch ${C})`, `/tmp/\`touch ${C}\``, `/tmp/x\ntouch ${C}`,
  `/tmp/x' ; touch ${C} ; '`, `/tmp/x" ; touch ${C} ; "`, `/tmp/x&touch ${C}`, `/tmp/x|touch ${C}`, `/tmp/x>${C}`, `/tmp/x<${C}`, `>${C}`,
  `--output=${C}`, `-o${C}`, `--help`, `-rf /`, `; rm -rf ${dir}/nothing`, `| nc 127.0.0.1 9`, `&& id > ${C}`, `$((1+1))`, `\${IFS}touch\${IFS}${C}`,
  `$IFS;touch ${C}`, `1\u2028touch ${C}`, `1\u2029touch ${C}`, `\u202etouch ${C}`, `１２３`, `12\u200b3`, `١٢٣`, `1e3`, `0x10`, `-1`, `+1`, ` 1`, `1 `,
  `4194305`, `99999999999999999999`, `*`, `/tmp/*`, `~root`, `!!`, `#; touch ${C}`, `a\tb`, `\u001b[2Jtouch ${C}`, `＇; touch ${C}; ＇`, `‘; touch ${C}; ’`,
  `$'\\x3btouch ${C}'`, `{touch,${C}}`, `a=b touch ${C}`, `/tmp/a b`, `10.0.0.1; touch ${C}`, `host.example.com;id`, `30s; touch ${C}`, `1m$(id)`, '',
];

const DEFS: ReadonlyArray<[string, ValueDef]> = [
  ['pid', { type: 'pid' }],
  ['int', { type: 'int' }],
  ['path', { type: 'path' }],
  ['address', { type: 'address' }],
  ['host', { type: 'host' }],
  ['duration', { type: 'duration' }],
  ['enum', { type: 'enum', values: ['4.0', '4.1', 'a-b'] }],
  ['string (any)', { type: 'string', pattern: '.*', max_length: 4096 }],
  ['string (word)', { type: 'string', pattern: '[a-z0-9-]+' }],
  ['word (extract)', { type: 'word' }],
];

const SCRIPTS = [
  'printf "%s\\n" {{v}} > out.txt',
  'printf "%s\\n" /prefix/{{v}}/suffix > out.txt',
  'x=$(printf "%s" {{v}}); printf "%s\\n" "$x" > out.txt',
  'for w in {{v}}; do printf "%s\\n" "$w"; done > out.txt',
  'printf "%s\\n" -- {{v}} | cat > out.txt',
];

function runScript(script: string): void {
  try {
    execFileSync('/bin/sh', ['-c', script], { cwd: dir, timeout: 5000, stdio: ['ignore', 'ignore', 'ignore'] });
  } catch {
    // A failing command is fine; only the canary matters (and the round trip, checked by the caller).
  }
}

/**
 * What really reaches a host: the playbook's remote form (`remoteCommand`: requirement check, `sudo -n` when the
 * step asks for it) wrapped by the SSH layer (`buildRemoteCommand`: pid marker, `timeout`, the words as "$@"),
 * then run by the login shell (`$SHELL -c`, as sshd does): dash, bash, and zsh when installed. For the sudo
 * branch a shim `id` claims a non-root uid, so the real `sudo -n` path runs (we are root: sudo lets us).
 */
const LOGIN_SHELLS = ['/bin/sh', '/bin/bash', '/bin/zsh', '/usr/bin/zsh'].filter((sh, i, a) => existsSync(sh) && a.findIndex((x) => existsSync(x) && x.endsWith(sh.split('/').pop()!)) === i);
const shim = join(dir, 'shim');
mkdirSync(shim);
writeFileSync(join(shim, 'id'), '#!/bin/sh\n[ "$1" = -u ] && { echo 1000; exit 0; }\nexec /usr/bin/id "$@"\n');
chmodSync(join(shim, 'id'), 0o755);
const SUDO_OK = (() => {
  try {
    execFileSync('sudo', ['-n', 'true'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
})();

function remoteForms(r: Rendered): { label: string; line: string; env?: NodeJS.ProcessEnv }[] {
  const forms: { label: string; line: string; env?: NodeJS.ProcessEnv }[] = [];
  for (const sudo of SUDO_OK ? [false, true] : [false]) {
    const remote = remoteCommand(r, { sudo, requires: [{ command: 'printf' }, { command: 'cat' }] });
    for (const wrapSudo of [false, true]) {
      if (wrapSudo && !SUDO_OK) continue;
      const line = buildRemoteCommand({ script: remote }, { timeoutSec: 5, sudo: wrapSudo, hasTimeout: true });
      forms.push({ label: `remoteCommand(sudo=${sudo}) via buildRemoteCommand(sudo=${wrapSudo})`, line, env: sudo ? { ...process.env, PATH: `${shim}:${process.env.PATH ?? ''}` } : undefined });
    }
  }
  return forms;
}

function runRemote(shell: string, line: string, env?: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(shell, ['-c', line], { cwd: dir, timeout: 10_000, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '');
  }
}

describe('parameter injection corpus, through the remote wrapper and login shells', () => {
  it('the shells and the sudo branch are really exercised', () => {
    expect(LOGIN_SHELLS).toContain('/bin/sh');
    expect(LOGIN_SHELLS).toContain('/bin/bash');
    // The shim makes remoteCommand take its `sudo -n` branch: prove it by a command that reports how it ran.
    const forms = remoteForms(renderRun({ argv: ['sh', '-c', 'echo "uid=$(/usr/bin/id -u) sudo=${SUDO_USER:-none}"'] }, {}, {}));
    const viaSudo = forms.filter((f) => f.env);
    if (SUDO_OK) {
      expect(viaSudo.length).toBeGreaterThan(0);
      for (const f of viaSudo) expect(runRemote('/bin/sh', f.line, f.env), f.label).toMatch(/sudo=(?!none)/);
    }
  });

  for (const [label, def] of DEFS) {
    it(`${label}: the command the host receives never runs a payload, in any login shell, with or without sudo`, () => {
      let checked = 0;
      for (const p of PAYLOADS) {
        const caseHosts = def.type === 'host' ? [p, 'web-1'] : undefined;
        if (!checkScalar(def, p, caseHosts).ok) continue;
        const bindings: Bindings = { v: { def, value: p } };
        const rendered: Rendered[] = [renderRun({ script: SCRIPTS[0]! }, bindings, { caseHosts }), renderRun({ script: SCRIPTS[2]! }, bindings, { caseHosts })];
        if (!p.startsWith('-')) rendered.push(renderRun({ argv: ['printf', '%s\\n', '{{v}}'] }, bindings, { caseHosts }));
        for (const r of rendered) {
          for (const f of remoteForms(r)) {
            for (const shell of LOGIN_SHELLS) {
              const where = `${label} ${JSON.stringify(p)} ${f.label} in ${shell}`;
              rmSync(join(dir, 'out.txt'), { force: true });
              const out = runRemote(shell, r.argv ? `${f.line} > out.txt` : f.line, f.env);
              void out;
              expect(existsSync(canary), where).toBe(false);
              // The value arrives as exactly the text given (the first script and the argv form print it).
              if (r !== rendered[1]) expect(readFileSync(join(dir, 'out.txt'), 'utf8'), where).toBe(`${p}\n`);
              checked++;
            }
          }
        }
      }
      if (label === 'string (any)') expect(checked).toBeGreaterThan(40 * LOGIN_SHELLS.length);
    }, 120_000);
  }
});

describe('parameter injection corpus', () => {
  it('has at least 50 payloads', () => {
    expect(PAYLOADS.length).toBeGreaterThanOrEqual(50);
  });

  it('the pid 1; touch /tmp/x example is rejected with a clear error and nothing runs', () => {
    const r = checkScalar({ type: 'pid' }, '1; touch /tmp/x');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/process id \(digits only/);
    const pb = { id: 'x', title: 'x', summary: 'x', symptoms: ['x'], parameters: { pid: { type: 'pid' } }, steps: [], conclusions: [] } as unknown as Playbook;
    expect(() => bindParams(pb, { pid: '1; touch /tmp/x' }, [{ name: 'h' }])).toThrow(RunInputError);
    expect(() => createRun(pb, { pid: '1; touch /tmp/x' }, [{ name: 'h' }])).toThrow(/parameter pid must be a process id/);
  });

  for (const [label, def] of DEFS) {
    it(`${label}: no payload renders into something that executes`, () => {
      let rendered = 0;
      for (const p of PAYLOADS) {
        const caseHosts = def.type === 'host' ? [p, 'web-1'] : undefined;
        const check = checkScalar(def, p, caseHosts);
        const bindings: Bindings = { v: { def, value: p } };
        if (!check.ok) {
          // Rejected values must also be refused by the renderer itself (defence in depth), in both modes.
          expect(() => renderRun({ script: SCRIPTS[0]! }, bindings, { caseHosts })).toThrow(RenderError);
          expect(() => renderRun({ argv: ['echo', '{{v}}'] }, bindings, { caseHosts })).toThrow(RenderError);
          continue;
        }
        rendered++;
        for (const tpl of SCRIPTS) {
          const r = renderRun({ script: tpl }, bindings, { caseHosts });
          rmSync(join(dir, 'out.txt'), { force: true });
          runScript(r.script!);
          expect(existsSync(canary), `${label} ${JSON.stringify(p)} via ${tpl}`).toBe(false);
          if (tpl === SCRIPTS[0]) expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe(`${p}\n`);
        }
        // argv: the value is one element; a leading "-" can never become an option.
        if (p.startsWith('-')) {
          expect(() => renderRun({ argv: ['echo', '{{v}}'] }, bindings, { caseHosts })).toThrow(/taken as an option/);
        } else {
          const a = renderRun({ argv: ['printf', '%s\\n', '{{v}}'] }, bindings, { caseHosts });
          expect(a.argv).toEqual(['printf', '%s\\n', p]);
          // The display/remote form re-splits into exactly these elements in a real shell.
          const out = execFileSync('/bin/sh', ['-c', `${a.display} > out.txt; cat out.txt`], { cwd: dir, encoding: 'utf8' });
          expect(out).toBe(`${p}\n`);
          expect(existsSync(canary)).toBe(false);
        }
      }
      // Each type accepts at least one payload or none by design; make the expectation explicit.
      if (def.type === 'pid' || def.type === 'int' || def.type === 'duration' || def.type === 'enum' || def.type === 'address') expect(rendered).toBeLessThanOrEqual(3);
      if (label === 'string (any)') expect(rendered).toBeGreaterThan(40);
    });
  }

  it('unsafe template positions are refused before any value is seen', () => {
    const bad = [
      "echo '{{v}}'",
      'echo "{{v}}"',
      'echo `cat {{v}}`',
      'cat <<EOF\n{{v}}\nEOF',
      'sh -c {{v}}',
      'bash -c {{v}}',
      'eval {{v}}',
      'echo ok # {{v}}',
      'echo {{ v',
      "echo 'unterminated {{v}}",
    ];
    for (const t of bad) expect(checkScriptTemplate(t).length, t).toBeGreaterThan(0);
    expect(checkScriptTemplate('cat /proc/{{v}}/stack; for p in {{v}}; do echo "$p"; done')).toEqual([]);
  });
});
