import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Programs some tests start (none is a running system service: each test starts its own on a free
 * loopback port), with the Debian package that brings each one.
 */
const PROGRAMS = {
  'redis-server': { run: 'redis-server', debian: 'redis-server' },
  etcd: { run: 'etcd', debian: 'etcd-server' },
  openssl: { run: 'openssl', debian: 'openssl' },
  prometheus: { run: '/usr/bin/prometheus', debian: 'prometheus' },
  chromium: { run: '/usr/bin/chromium', debian: 'chromium' },
} as const;

export type Program = keyof typeof PROGRAMS;

/**
 * The `skip` option for a test that needs `program`: false when it is installed, otherwise a message
 * naming the Debian package, so `npm test` passes on a machine with Node alone. Under
 * SLUICE_TEST_REQUIRE_SERVICES=1 (.ci/run sets it) a missing program throws instead: CI must run
 * every test, and a test file that cannot is a failure there.
 */
export function skipWithout(program: Program): string | false {
  const { run, debian } = PROGRAMS[program];
  const present = run.startsWith('/') ? existsSync(run) : !spawnSync(run, ['--version']).error;
  if (present) return false;
  const message = `${program} is not installed (Debian package ${debian}; .ci/run installs it)`;
  if (process.env.SLUICE_TEST_REQUIRE_SERVICES === '1') throw new Error(`${message}, and SLUICE_TEST_REQUIRE_SERVICES=1 requires it`);
  return message;
}
