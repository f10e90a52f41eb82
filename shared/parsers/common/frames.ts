/**
 * Kernel stack frame lines, as printed by the kernel's stack dumpers:
 *  - show_stack/dump_stack (x86 "Call Trace:"): " __schedule+0x3cc/0xf50", " ? get_page+0x16/0x18 [mod]"
 *  - /proc/PID/stack (proc_pid_stack): "[<0>] nfs4_delay_killable+0x5c/0xa0 [nfsv4]"
 *  - pre-4.x kernels: " [<ffffffff8108a1b3>] schedule+0x29/0x70"
 * A leading "? " marks an address found on the stack that the unwinder could not prove is a return
 * address (arch/x86/kernel/dumpstack.c printk_stack_address, `reliable`): kept as text, not as a frame.
 */
export interface Frame {
  readonly fn: string;
  readonly offset?: string | undefined;
  readonly module?: string | undefined;
  readonly unreliable: boolean;
}

const FRAME = /^\s*(?:\[<[0-9a-fA-F]+>\]\s*)?(\?\s+)?([A-Za-z_.$][\w.$]*)\+(0x[0-9a-fA-F]+\/0x[0-9a-fA-F]+)(?:\s+\[([\w-]+)\])?/;

export function parseFrame(line: string): Frame | undefined {
  if (line.length > 1024) return undefined;
  const m = FRAME.exec(line);
  if (!m) return undefined;
  return { fn: m[2], offset: m[3], module: m[4], unreliable: m[1] !== undefined };
}

/** Function names of the reliable frames, innermost first (the order the kernel prints). */
export function frameNames(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const f = parseFrame(l);
    if (f && !f.unreliable) out.push(f.fn);
  }
  return out;
}
