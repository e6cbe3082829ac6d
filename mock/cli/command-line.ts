// The command line of `pacspace-sandbox`: what to do (help, version, or start with these
// options), or a UsageError that says what is wrong with it in one line.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ChaosFileError, readChaosFile } from '../chaos/file.ts';
import { isControlToken } from '../control/guard.ts';
import { normalizeAllowedHost } from '../http/host-check.ts';
import { DEFAULT_INSPECT_HISTORY, MAX_INSPECT_HISTORY } from '../inspector/history.ts';
import { isPort } from '../http/listener.ts';
import { LOG_LEVELS, type LogLevel } from '../logger.ts';
import type { SandboxOptions } from '../sandbox.ts';

export const usage = `Usage: pacspace-sandbox [options]

  --host HOST           address to bind (default 127.0.0.1)
  --port N              production listener: Dashboard API + pk_live_ keys (default 4010; 0 for a free port)
  --sandbox-port N      sandbox listener: pk_test_ keys (default 4011; 0 for a free port)
  --seed N              create the deterministic demo account N (default 1; --seed none for none)
  --provisioning-ms N   how long provisioning an environment takes (default 5000)
  --confirmation-ms N   how long until a recorded delta is confirmed (default 2000)
  --free-plan-deltas N  verified deltas a month on the Free plan in the sandbox (default 100)
  --inspect-history N   requests the inspector keeps, secrets redacted (default 500; 0 for none);
                        see /__sandbox/inspector/
  --data DIR            keep an append-only journal in DIR; a restart replays it (default: memory only)
  --repair              with --data: keep every journal record that verifies, move the rest aside
  --data-key-file FILE  the key sealing the journal's secrets (default DIR/data.key)
  --no-control          do not serve the /__sandbox/ control surface
  --control-token TOKEN control requests must send X-Sandbox-Control-Token: TOKEN (default: none needed)
  --control-token-file FILE
                        the same, with TOKEN read from FILE (one trailing newline ignored): unlike the
                        argument, it does not show in the process list
  --chaos FILE          start with the chaos settings of this JSON file (see PUT /__sandbox/chaos; default: none)
  --allowed-host HOST   also answer requests for this Host (HOST: with the listener's port; HOST:PORT: exactly);
                        repeatable. Always answered: localhost, 127.0.0.1, [::1] and --host
  --log-level LEVEL     silent | error | warn | info | debug (default info; debug logs one line per request)
  -h, --help            show this help
  --version             print the version`;

/** The command line is wrong: print the message and the usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'start'; options: SandboxOptions & { logLevel: LogLevel } };

const OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '4010' },
  'sandbox-port': { type: 'string', default: '4011' },
  seed: { type: 'string', default: '1' },
  'provisioning-ms': { type: 'string', default: '5000' },
  'confirmation-ms': { type: 'string', default: '2000' },
  'free-plan-deltas': { type: 'string', default: '100' },
  'inspect-history': { type: 'string', default: String(DEFAULT_INSPECT_HISTORY) },
  'no-control': { type: 'boolean', default: false },
  'control-token': { type: 'string' },
  'control-token-file': { type: 'string' },
  'allowed-host': { type: 'string', multiple: true },
  data: { type: 'string' },
  repair: { type: 'boolean', default: false },
  'data-key-file': { type: 'string' },
  chaos: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

export function parseCommandLine(args: string[]): Command {
  let values;
  try {
    ({ values } = parseArgs({ args: negativeNumbersAsValues(args), options: OPTIONS, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const logLevel = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${values['log-level']}"`);
  const port = portNumber('--port', values.port);
  const sandboxPort = portNumber('--sandbox-port', values['sandbox-port']);
  // Two listeners cannot share a port; 0 asks the system for a free one each.
  if (port !== 0 && port === sandboxPort) throw new UsageError(`--port and --sandbox-port must differ (both are ${port})`);
  // Both concern the journal: without one they would silently do nothing.
  if (!values.data && values.repair) throw new UsageError('--repair needs --data DIR');
  if (!values.data && values['data-key-file'] !== undefined) throw new UsageError('--data-key-file needs --data DIR');
  if (values['data-key-file'] === '') throw new UsageError('--data-key-file must name a file');
  return {
    kind: 'start',
    options: {
      host: values.host,
      port,
      sandboxPort,
      ...(values.seed === 'none' ? {} : { seed: wholeNumber('--seed', values.seed) }),
      provisioningMs: wholeNumber('--provisioning-ms', values['provisioning-ms']),
      confirmationMs: wholeNumber('--confirmation-ms', values['confirmation-ms']),
      freePlanDeltas: wholeNumber('--free-plan-deltas', values['free-plan-deltas']),
      inspectHistory: inspectHistory(values['inspect-history']),
      control: !values['no-control'],
      ...controlOptions(controlToken(values['control-token'], values['control-token-file']), values['allowed-host'], !values['no-control']),
      ...(values.data ? { dataDir: values.data } : {}),
      ...(values.repair ? { repair: true } : {}),
      ...(values['data-key-file'] ? { dataKeyFile: values['data-key-file'] } : {}),
      ...(values.chaos === undefined ? {} : { chaos: chaosFile(values.chaos) }),
      logLevel,
    },
  };
}

/** The control token, from `--control-token` or `--control-token-file` (one of them), with the flag it came from. */
function controlToken(given: string | undefined, file: string | undefined): { token: string; flag: string } | undefined {
  if (given !== undefined && file !== undefined) throw new UsageError('--control-token and --control-token-file are exclusive: give one');
  if (given !== undefined) return { token: given, flag: '--control-token' };
  if (file === undefined) return undefined;
  if (file === '') throw new UsageError('--control-token-file must name a file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--control-token-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // Files written by `echo` or an editor end with a newline; it is not part of the token.
  return { token: text.replace(/\r?\n$/, ''), flag: '--control-token-file' };
}

/** The control token (its value is never part of a message) and every `--allowed-host`, checked. */
function controlOptions(given: { token: string; flag: string } | undefined, hosts: string[] | undefined, control: boolean): Pick<SandboxOptions, 'controlToken' | 'allowedHosts'> {
  const token = given?.token;
  if (given !== undefined && !control) throw new UsageError(`${given.flag} needs the control surface (drop --no-control)`);
  if (given !== undefined && !isControlToken(given.token)) {
    throw new UsageError(`${given.flag} must ${given.flag === '--control-token' ? 'be' : 'hold'} 1 to 256 visible ASCII characters (no spaces)`);
  }
  const allowedHosts = (hosts ?? []).map((value) => {
    const host = normalizeAllowedHost(value);
    if (host === undefined) throw new UsageError(`--allowed-host must be a host name or address with an optional :port, got "${value}"`);
    return host;
  });
  return { ...(token === undefined ? {} : { controlToken: token }), ...(allowedHosts.length ? { allowedHosts } : {}) };
}

/** `--chaos FILE`, read and checked against the control contract now, not at the first request. */
function chaosFile(file: string) {
  if (file === '') throw new UsageError('--chaos must name a file');
  try {
    return readChaosFile(file);
  } catch (error) {
    if (error instanceof ChaosFileError) throw new UsageError(error.message);
    throw error;
  }
}

function inspectHistory(value: string): number {
  const n = wholeNumber('--inspect-history', value);
  if (n > MAX_INSPECT_HISTORY) throw new UsageError(`--inspect-history must be at most ${MAX_INSPECT_HISTORY}, got "${value}"`);
  return n;
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

function portNumber(flag: string, value: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!isPort(port)) throw new UsageError(`${flag} must be an integer from 0 to 65535, got "${value}"`);
  return port;
}

/**
 * `--port -1` as `--port=-1`: parseArgs takes a value starting with `-` for an option of its
 * own and refuses it as ambiguous; a negative number is never one of ours, so it is the value
 * and the range check can name the problem.
 */
function negativeNumbersAsValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.startsWith('--') ? args[i]!.slice(2) : undefined;
    const next = args[i + 1];
    const takesValue = name !== undefined && name in OPTIONS && OPTIONS[name as keyof typeof OPTIONS].type === 'string';
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else {
      out.push(args[i]!);
    }
  }
  return out;
}
