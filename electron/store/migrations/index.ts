import { sql as m001 } from './001_init';
import { sql as m002 } from './002_timeline';
import { sql as m003 } from './003_bulk_fts';
import { sql as m004 } from './004_fts_columnsize';
import { sql as m005 } from './005_event_bins';
import { sql as m006 } from './006_owners';

/** Numbered migrations, applied in order; `PRAGMA user_version` records the last one applied. */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  { version: 1, sql: m001 },
  { version: 2, sql: m002 },
  { version: 3, sql: m003 },
  { version: 4, sql: m004 },
  { version: 5, sql: m005 },
  { version: 6, sql: m006 },
];
