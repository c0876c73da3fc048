import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVmSize, procReaders } from '../../../src/metrics/runtime/procfs.js';

const test = suite('metrics/runtime/procfs');

test('parseVmSize reads kB into bytes, wherever the line is', () => {
  const status = 'Name:\tnode\nUmask:\t0022\nVmPeak:\t  762412 kB\nVmSize:\t  762160 kB\nVmLck:\t       0 kB\n';
  assert.is(parseVmSize(status), 762160 * 1024);
  assert.is(parseVmSize('VmSize:\t1 kB\n'), 1024);
  assert.is(parseVmSize('Name:\tkthreadd\nState:\tS (sleeping)\n'), undefined, 'kernel threads have no VmSize');
  assert.is(parseVmSize('VmSize:\tgarbage\n'), undefined);
});

test('no readers off Linux, and none where /proc is missing', () => {
  assert.equal(procReaders('/proc/self', 'darwin'), { virtualMemory: undefined, openFileDescriptors: undefined });
  assert.equal(procReaders('/proc/self', 'win32'), { virtualMemory: undefined, openFileDescriptors: undefined });
  assert.equal(procReaders('/nonexistent/proc/self', 'linux'), { virtualMemory: undefined, openFileDescriptors: undefined });
});

test('readers over a procfs-shaped directory; a reader that starts failing reports undefined', () => {
  const root = mkdtempSync(join(tmpdir(), 'otlp-fanout-proc-'));
  try {
    writeFileSync(join(root, 'status'), 'Name:\tx\nVmSize:\t  2048 kB\n');
    mkdirSync(join(root, 'fd'));
    // A real fd directory lists the descriptor readdir holds: 4 entries here mean 3 in use.
    for (const n of ['0', '1', '2', '3']) writeFileSync(join(root, 'fd', n), '');
    const r = procReaders(root, 'linux');
    assert.is(r.virtualMemory?.(), 2048 * 1024);
    assert.is(r.openFileDescriptors?.(), 3);
    rmSync(join(root, 'status'));
    rmSync(join(root, 'fd'), { recursive: true });
    assert.is(r.virtualMemory?.(), undefined);
    assert.is(r.openFileDescriptors?.(), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('on this Linux host both readers work and give plausible values', () => {
  if (process.platform !== 'linux') return;
  const r = procReaders();
  const vm = r.virtualMemory?.();
  const fds = r.openFileDescriptors?.();
  assert.ok(vm !== undefined && vm > process.memoryUsage.rss(), `VmSize ${String(vm)}`);
  assert.ok(fds !== undefined && fds >= 3, `fds ${String(fds)}`);
});

test.run();
