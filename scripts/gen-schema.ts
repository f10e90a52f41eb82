/**
 * Writes playbooks/playbook.schema.json from the zod schema (shared/playbook/schema.ts) and docs/findings.md
 * from the findings rules. Run with `npm run schema`; test/playbook/schema.test.ts fails when either is stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderFindingsDoc } from '../shared/findings/doc';
import { playbookJsonSchema } from '../shared/playbook/schema';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = join(root, 'playbooks', 'playbook.schema.json');
writeFileSync(schemaPath, `${JSON.stringify(playbookJsonSchema(), null, 2)}\n`);
const docPath = join(root, 'docs', 'findings.md');
mkdirSync(dirname(docPath), { recursive: true });
writeFileSync(docPath, renderFindingsDoc());
console.log(`wrote ${schemaPath}\nwrote ${docPath}`);
