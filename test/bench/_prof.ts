import { generateSyslog } from './common';
export async function main() { console.log(generateSyslog('/tmp/cfb/sys20k.log', 20000)); }
