import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Lets a test measure retained heap without running node with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap used after a full collection. */
export function settledHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
