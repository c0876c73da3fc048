/**
 * The CLI's lifecycle decisions (src/cli-lifecycle.ts) as step tables with a stepped clock: which
 * signal drains, which repeat is the same signal delivered twice, which abandons; SIGHUP never
 * stops; the exit code and report lines from a shutdown report. Real processes: test/gateway/lifecycle.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSignalDispatcher, describeReport, EXIT_CODES, exitCodeFor, REPEAT_WINDOW_MILLIS } from '../src/cli-lifecycle.js';
import type { ShutdownReport } from '../src/gateway/observe/events.js';

const test = suite('cli lifecycle');

/** Runs signals at times (ms) through a dispatcher and returns what it decided, as `action:signal`. */
function decide(steps: ReadonlyArray<readonly [number, NodeJS.Signals]>): string[] {
  let now = 0;
  const seen: string[] = [];
  const dispatch = createSignalDispatcher(
    {
      drain: (s) => seen.push(`drain:${s}`),
      repeated: (s, after) => seen.push(`repeated:${s}:${after}`),
      abandon: (s) => seen.push(`abandon:${s}`),
      reload: (s) => seen.push(`reload:${s}`),
    },
    { now: () => now },
  );
  for (const [t, signal] of steps) {
    now = t;
    dispatch(signal);
  }
  return seen;
}

const W = REPEAT_WINDOW_MILLIS;
const steps: Array<[string, Array<readonly [number, NodeJS.Signals]>, string[]]> = [
  ['one SIGTERM drains', [[0, 'SIGTERM']], ['drain:SIGTERM']],
  ['SIGINT drains too', [[5, 'SIGINT']], ['drain:SIGINT']],
  [
    'SIGHUP only ever reloads, before, during and after a drain',
    [
      [0, 'SIGHUP'],
      [10, 'SIGTERM'],
      [20, 'SIGHUP'],
    ],
    ['reload:SIGHUP', 'drain:SIGTERM', 'reload:SIGHUP'],
  ],
  [
    'the group and npm deliver the same SIGTERM 2 ms apart: one stop',
    [
      [100, 'SIGTERM'],
      [102, 'SIGTERM'],
    ],
    ['drain:SIGTERM', 'repeated:SIGTERM:2'],
  ],
  [
    'Ctrl-C through npm: SIGINT twice at once',
    [
      [0, 'SIGINT'],
      [0, 'SIGINT'],
    ],
    ['drain:SIGINT', 'repeated:SIGINT:0'],
  ],
  [
    'just inside the window: still the same stop',
    [
      [0, 'SIGTERM'],
      [W - 1, 'SIGTERM'],
    ],
    ['drain:SIGTERM', `repeated:SIGTERM:${W - 1}`],
  ],
  [
    'at the window: a second stop abandons',
    [
      [0, 'SIGTERM'],
      [W, 'SIGTERM'],
    ],
    ['drain:SIGTERM', 'abandon:SIGTERM'],
  ],
  [
    'a duplicate, then a deliberate second SIGINT',
    [
      [0, 'SIGINT'],
      [1, 'SIGINT'],
      [3000, 'SIGINT'],
    ],
    ['drain:SIGINT', 'repeated:SIGINT:1', 'abandon:SIGINT'],
  ],
  [
    'after abandoning, further stops do nothing',
    [
      [0, 'SIGTERM'],
      [W + 1, 'SIGINT'],
      [W + 2, 'SIGTERM'],
    ],
    ['drain:SIGTERM', 'abandon:SIGINT'],
  ],
  ['a signal with no action is ignored', [[0, 'SIGUSR2']], []],
];
for (const [name, input, expected] of steps) {
  test(`signals: ${name}`, () => assert.equal(decide(input), expected));
}

function report(upstreams: Array<[string, number, number]>): ShutdownReport {
  return {
    drained: upstreams.every(([, r]) => r === 0),
    elapsedMs: 12,
    upstreams: upstreams.map(([name, undeliveredRequests, undeliveredItems]) => ({ name, undeliveredRequests, undeliveredItems })),
  };
}
const forwarding = new Set(['main', 'backup']);

test('exit codes: 0 when every forwarding upstream delivered; 3 when one did not; self-telemetry alone does not count', () => {
  assert.equal(EXIT_CODES, { ok: 0, cannotStart: 1, usage: 2, lostData: 3 });
  assert.is(
    exitCodeFor(
      report([
        ['main', 0, 0],
        ['backup', 0, 0],
      ]),
      forwarding,
    ),
    0,
  );
  assert.is(
    exitCodeFor(
      report([
        ['main', 0, 0],
        ['backup', 1, 7],
      ]),
      forwarding,
    ),
    3,
  );
  assert.is(
    exitCodeFor(
      report([
        ['main', 0, 0],
        ['self', 4, 40],
      ]),
      forwarding,
    ),
    0,
  );
});

test('report lines: delivered, undelivered at the deadline, abandoned, self-telemetry', () => {
  assert.equal(describeReport(report([['main', 0, 0]]), forwarding), ['otlp-fanout gateway stopped after 12 ms: everything queued was delivered']);
  assert.equal(
    describeReport(
      report([
        ['main', 2, 5],
        ['backup', 0, 0],
        ['self', 1, 9],
      ]),
      forwarding,
    ),
    [
      'otlp-fanout gateway stopped after 12 ms: could not deliver everything before the deadline',
      '  upstream main: 2 requests, 5 items undelivered',
      "  self-telemetry upstream self: 1 requests of the gateway's own metrics undelivered",
      '  exit 3: acknowledged data was lost',
    ],
  );
  assert.equal(describeReport(report([['main', 3, 6]]), forwarding, true), [
    'otlp-fanout gateway stopped after 12 ms: the drain was cut short; abandoned:',
    '  upstream main: 3 requests, 6 items abandoned',
    '  exit 3: acknowledged data was lost',
  ]);
});

test.run();
