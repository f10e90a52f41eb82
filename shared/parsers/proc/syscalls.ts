/**
 * Syscall numbers needed to read /proc/PID/syscall (first field = number). Only the calls the playbooks
 * reason about; numbers from arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h
 * (arm64), as listed in investigations.md §1.2 plus their neighbours used by stuck I/O.
 */
export type Arch = 'x86_64' | 'arm64';

const X86_64: Readonly<Record<number, string>> = {
  0: 'read', 1: 'write', 2: 'open', 3: 'close', 4: 'stat', 5: 'fstat', 6: 'lstat', 7: 'poll', 8: 'lseek', 9: 'mmap',
  17: 'pread64', 18: 'pwrite64', 21: 'access', 23: 'select', 32: 'dup', 35: 'nanosleep', 42: 'connect', 43: 'accept',
  61: 'wait4', 72: 'fcntl', 73: 'flock', 74: 'fsync', 75: 'fdatasync', 76: 'truncate', 77: 'ftruncate', 78: 'getdents',
  80: 'chdir', 82: 'rename', 83: 'mkdir', 84: 'rmdir', 87: 'unlink', 165: 'mount', 166: 'umount2', 202: 'futex',
  217: 'getdents64', 230: 'clock_nanosleep', 231: 'exit_group', 232: 'epoll_wait', 257: 'openat', 262: 'newfstatat',
  263: 'unlinkat', 270: 'pselect6', 271: 'ppoll', 281: 'epoll_pwait', 288: 'accept4', 332: 'statx', 437: 'openat2',
};

const ARM64: Readonly<Record<number, string>> = {
  17: 'getcwd', 23: 'dup', 25: 'fcntl', 29: 'ioctl', 32: 'flock', 34: 'mkdirat', 35: 'unlinkat', 38: 'renameat',
  39: 'umount2', 40: 'mount', 46: 'ftruncate', 48: 'faccessat', 56: 'openat', 57: 'close', 61: 'getdents64', 62: 'lseek',
  63: 'read', 64: 'write', 67: 'pread64', 68: 'pwrite64', 72: 'pselect6', 73: 'ppoll', 79: 'newfstatat', 80: 'fstat',
  82: 'fsync', 83: 'fdatasync', 98: 'futex', 101: 'nanosleep', 115: 'clock_nanosleep', 202: 'accept', 203: 'connect',
  242: 'accept4', 260: 'wait4', 291: 'statx', 437: 'openat2',
};

export function syscallName(nr: number, arch: Arch): string | undefined {
  return (arch === 'x86_64' ? X86_64 : ARM64)[nr];
}

/** flock(2) operation bits (include/uapi/asm-generic/fcntl.h): LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8. */
export function flockOp(op: number): string {
  const parts: string[] = [];
  if (op & 1) parts.push('LOCK_SH');
  if (op & 2) parts.push('LOCK_EX');
  if (op & 8) parts.push('LOCK_UN');
  if (op & 4) parts.push('LOCK_NB');
  return parts.length > 0 ? parts.join('|') : String(op);
}

/** fcntl(2) lock commands (asm-generic/fcntl.h): F_GETLK 5, F_SETLK 6, F_SETLKW 7, F_OFD_GETLK 36, F_OFD_SETLK 37, F_OFD_SETLKW 38. */
export function fcntlCmd(cmd: number): string | undefined {
  return ({ 5: 'F_GETLK', 6: 'F_SETLK', 7: 'F_SETLKW', 36: 'F_OFD_GETLK', 37: 'F_OFD_SETLK', 38: 'F_OFD_SETLKW' } as Record<number, string>)[cmd];
}
