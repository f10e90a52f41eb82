import { sql as m001 } from './001_init';

/** Numbered migrations, applied in order; `PRAGMA user_version` records the last one applied. */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [{ version: 1, sql: m001 }];
