import type { Level } from '../../model/event';
import { LEVELS } from '../../model/event';

/**
 * syslog priority decoding (RFC 5424 §6.2.1): PRI = facility * 8 + severity. The kernel uses the same
 * encoding for /dev/kmsg and `dmesg -r`; util-linux names the facilities as below (dmesg.c `facility_names`).
 */
export const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'authpriv', 'ftp', 'res0', 'res1', 'res2', 'res3',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;
export type Facility = (typeof FACILITIES)[number];

export function levelFromPri(pri: number): Level {
  return LEVELS[pri & 7] ?? 'info';
}

export function facilityFromPri(pri: number): Facility | undefined {
  return FACILITIES[pri >> 3];
}

export function isLevel(s: string): s is Level {
  return (LEVELS as readonly string[]).includes(s);
}

export function isFacility(s: string): s is Facility {
  return (FACILITIES as readonly string[]).includes(s);
}
