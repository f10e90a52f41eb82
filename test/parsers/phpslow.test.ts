import { describe, expect, it } from 'vitest';
import { detectTextKind, parseText } from '../../shared/parsers';
import type { PhpFpmLogData, PhpSlowData } from '../../shared/parsers/phpslow';
import { parseIso } from '../../shared/model/time';
import { d, fixture } from './helpers';

describe('php-fpm slow log', () => {
  const text = fixture('logs/constructed__php-fpm-slow.log');

  it('detects the slow log and makes one event per traced request', () => {
    expect(detectTextKind(text.split('\n'))).toBe('php-slow');
    const out = parseText('php-slow', text);
    expect(out.warnings).toEqual([]);
    expect(out.events.map((e) => [e.kind, e.pid, e.line, e.endLine])).toEqual([['log', 14230, 2, 6], ['log', 14231, 8, 12], ['log', 14302, 14, 16]]);
    const a = d<PhpSlowData>(out.events[0]);
    expect(a.pool).toBe('www');
    expect(a.scriptFilename).toBe('/var/www/html/wp-admin/admin-ajax.php');
    expect(a.frames).toEqual([
      { fn: 'flock', file: '/var/www/html/wp-content/themes/charityheart/inc/core/compiler.php', line: 142 },
      { fn: 'save_compiled_css', file: '/var/www/html/wp-content/themes/charityheart/inc/core/options.php', line: 512 },
      { fn: 'update_theme_options', file: '/var/www/html/wp-admin/includes/ajax-actions.php', line: 2104 },
    ]);
    expect(d<PhpSlowData>(out.events[1]).frames.map((f) => f.fn)).toEqual(['stat', '[INCLUDE_OR_EVAL]', '???']);
    expect(d<PhpSlowData>(out.events[1]).frames[2]).toEqual({ fn: '???', file: 'unknown', line: 0 });
    expect(d<PhpSlowData>(out.events[2])).toMatchObject({ pool: 'api', dumpFailed: true, frames: [] });
  });

  it('converts the zone-less local stamp with the host offset, UTC otherwise, keeping microseconds', () => {
    const utc = parseText('php-slow', text);
    expect(utc.events[0].ts).toBe(parseIso('2023-10-24T14:12:31Z'));
    expect(utc.events[0].clock).toBe('host-wall');
    expect(d<PhpSlowData>(utc.events[0]).zoneAssumed).toBe(true);
    const cest = parseText('php-slow', text, { utcOffsetMinutes: 120 });
    expect(cest.events[0].ts).toBe(parseIso('2023-10-24T12:12:31Z'));
    expect(cest.events[1].ts).toBe(parseIso('2023-10-24T12:13:02.123456Z'));
    expect(cest.events[0].tsRaw).toBe('[24-Oct-2023 14:12:31]');
    expect(d<PhpSlowData>(cest.events[0]).zoneAssumed).toBe(false);
  });

  it('reads the php-fpm error log warnings that point at slow and killed requests', () => {
    const log = fixture('logs/constructed__php-fpm-error.log');
    expect(detectTextKind(log.split('\n'))).toBe('php-slow');
    const out = parseText('php-slow', log);
    expect(out.warnings).toEqual([]);
    const first = d<PhpFpmLogData>(out.events[0]);
    expect(first).toMatchObject({ severity: 'WARNING', pool: 'www', child: 14230, script: '/var/www/html/wp-admin/admin-ajax.php', request: 'POST /wp-admin/admin-ajax.php', seconds: '5.012345' });
    expect(out.events[0].durationNs).toBe(5_012_345_000n);
    expect(out.events[0].level).toBe('warn');
    expect(out.events[1].level).toBe('notice');
    expect(out.events[4].durationNs).toBe(30_004_411_000n);
  });

  it('reports lines outside any block and keeps a block cut short by truncation', () => {
    const cut = `${text.split('\n').slice(0, 4).join('\n')}\nrandom text\n[0x0000ffffa0e1b1`;
    const out = parseText('php-slow', cut);
    expect(out.events[0].kind).toBe('log');
    expect(d<PhpSlowData>(out.events[0]).frames).toHaveLength(1);
    expect(out.warnings).toEqual(['2 line(s) were not php-fpm slow-log lines (first at line 5); skipped']);
  });
});
