export { classifyFrames, baseName, STACK_CLASSES } from './classify';
export type { StackClass, StackClassification } from './classify';
export { createProcStackParser, procStackSpec } from './stack';
export { createProcSyscallParser, procSyscallSpec } from './syscall';
export { syscallName, flockOp, fcntlCmd } from './syscalls';
export type { Arch } from './syscalls';
export type { StackData, ProcSyscallData } from './types';
