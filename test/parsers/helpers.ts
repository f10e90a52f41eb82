import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedEvent } from '../../shared/model/event';

export const FIX = join(__dirname, '..', 'fixtures');

export function fixture(rel: string): string {
  return readFileSync(join(FIX, rel), 'utf8');
}

export function ofKind(events: readonly ParsedEvent[], kind: ParsedEvent['kind']): ParsedEvent[] {
  return events.filter((e) => e.kind === kind);
}

export function d<T>(e: ParsedEvent): T {
  return e.data as T;
}
