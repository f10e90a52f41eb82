import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../shared/findings';
import { renderFindingsDoc } from '../../shared/findings/doc';
import { formatError, loadPlaybook } from '../../shared/playbook/load';
import { playbookJsonSchema } from '../../shared/playbook/schema';

const root = join(__dirname, '..', '..');
const dir = join(root, 'playbooks');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('playbooks', () => {
  it('the committed JSON Schema is the one generated from the zod schema (npm run schema)', () => {
    const committed = JSON.parse(readFileSync(join(dir, 'playbook.schema.json'), 'utf8'));
    expect(committed).toEqual(playbookJsonSchema());
  });

  it('docs/findings.md is generated from RULES', () => {
    expect(readFileSync(join(root, 'docs', 'findings.md'), 'utf8')).toBe(renderFindingsDoc());
  });

  it('ships the seven playbooks', () => {
    expect(files).toEqual(['host-snapshot.yaml', 'nfs-mount-hang.yaml', 'nfs-triage.yaml', 'nfs4-lock-delay.yaml', 'nlm-lock-recovery.yaml', 'rpc-slot-exhaustion.yaml', 'stuck-process.yaml']);
  });

  for (const f of files) {
    it(`${f} validates (schema, references, known finding rules) and points at the schema`, () => {
      const text = readFileSync(join(dir, f), 'utf8');
      const r = loadPlaybook(text, `playbooks/${f}`, { knownRules: RULE_IDS });
      if (!r.ok) throw new Error(r.errors.map(formatError).join('\n'));
      expect(r.playbook.$schema).toBe('./playbook.schema.json');
      expect(`${r.playbook.id}.yaml`).toBe(f);
      // Intrusive tools are declared and confirmed.
      for (const s of r.playbook.steps) {
        const cmd = 'argv' in s.run ? s.run.argv.join(' ') : s.run.script;
        for (const tool of ['strace', 'tcpdump', 'rpcdebug']) {
          if (new RegExp(`\\b${tool}\\b`).test(cmd)) {
            expect(s.intrusive, `${f} ${s.id} runs ${tool}`).toBe(true);
            expect(s.requires.map((q) => q.command), `${f} ${s.id}`).toContain(tool);
          }
        }
        if (/rpcdebug -m \w+ -s/.test(cmd)) expect(s.restore, `${f} ${s.id} sets rpcdebug flags`).toBeDefined();
        if (/\b(strace|tcpdump|flock)\b/.test(cmd)) expect(cmd, `${f} ${s.id} is bounded`).toMatch(/timeout -s KILL/);
      }
    });
  }

  it('every playbook that nfs-triage points to exists', () => {
    const r = loadPlaybook(readFileSync(join(dir, 'nfs-triage.yaml'), 'utf8'));
    if (!r.ok) throw new Error('triage');
    const targets = r.playbook.steps.flatMap((s) => (s.next ?? []).map((b) => b.playbook).filter((p): p is string => p !== undefined));
    expect(new Set(targets)).toEqual(new Set(['nfs-mount-hang', 'stuck-process', 'nlm-lock-recovery', 'nfs4-lock-delay', 'rpc-slot-exhaustion']));
    for (const t of targets) expect(files).toContain(`${t}.yaml`);
  });
});

describe('loader errors carry line and column', () => {
  const good = readFileSync(join(dir, 'host-snapshot.yaml'), 'utf8');

  it('a bad duration points at the value', () => {
    const text = good.replace('    timeout: 15s\n    captures: ps', '    timeout: soon\n    captures: ps');
    const r = loadPlaybook(text, 'playbooks/x.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const line = text.split('\n').findIndex((l) => l.includes('timeout: soon')) + 1;
    expect(formatError(r.errors[0]!)).toBe(`playbooks/x.yaml:${line}:14: steps[1].timeout: expected a duration like 30s, 500ms, 2m or 1h`);
  });

  it('an unknown key points at the key', () => {
    const text = good.replace('    captures: proc-locks', '    captures: proc-locks\n    sudoo: true');
    const r = loadPlaybook(text, 'p.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const line = text.split('\n').findIndex((l) => l.includes('sudoo')) + 1;
    expect(formatError(r.errors[0]!)).toBe(`p.yaml:${line}:5: steps[3]: unknown key "sudoo"`);
  });

  it('YAML syntax errors, quoted placeholders and backward gotos are reported with positions', () => {
    const syntax = loadPlaybook('id: x\ntitle: [unclosed\n', 's.yaml');
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(formatError(syntax.errors[0]!)).toMatch(/^s\.yaml:\d+:\d+: YAML: /);
    const quoted = good.replace('run:\n      argv: [cat, /proc/locks]', 'run:\n      script: "cat \'{{nope}}\'"');
    const q = loadPlaybook(quoted, 'q.yaml');
    expect(q.ok).toBe(false);
    if (!q.ok) expect(q.errors.map(formatError).join('\n')).toMatch(/q\.yaml:\d+:\d+: steps\[3\]\.run\.script: \{\{nope\}\} is neither a parameter/);
    const back = good.replace('    captures: mountstats\n', '    captures: mountstats\n    next:\n      - goto: dmesg\n');
    const b = loadPlaybook(back, 'b.yaml');
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.errors.map(formatError).join('\n')).toMatch(/b\.yaml:\d+:\d+: steps\[5\]\.next\[0\]\.goto: goto must jump forward/);
  });
});
