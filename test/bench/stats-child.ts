/**
 * Child process of the decode benchmark's SRT row: `casefile stats FILE` as the CLI runs it (captureStats:
 * the capture streamed through the decoder into an SrtAccumulator, no event per call), printing the table.
 */
import { captureStats } from '../../electron/cli/capture';

const path = process.argv[2];
if (!path) throw new Error('usage: stats-child FILE');
process.stdout.write(await captureStats(path));
