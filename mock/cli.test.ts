// The `pacspace-sandbox` binary as a process: --version, a port in use or an address not
// available (one line, exit 1), bad or equal ports (usage, exit 2), a journal it cannot take as
// it is (--data with --repair and --data-key-file), and SIGTERM/SIGINT with an
// open keep-alive connection and scheduled work pending (exit 0 at once, ports free again):
// run directly, through a shell as a terminal's Ctrl-C reaches it, and through `npm exec` (npx).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { usage } from './cli/command-line.ts';
import pkg from './package.json' with { type: 'json' };
import { startTestSandbox } from './testing/test-sandbox.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = ['bin/pacspace-sandbox.js'];
/** What the bin prints, quoted into a shell command line. */
const BIN_COMMAND = 'node bin/pacspace-sandbox.js';
const FREE_PORTS = ['--port', '0', '--sandbox-port', '0'];

type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** Output and exit of a process; resolves once it and everything holding its stdio are gone. */
function finished(child: ChildProcess): Promise<Exit> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const runBin = (args: string[]) => finished(spawn(process.execPath, [...BIN, ...args], { cwd: root }));

type Running = {
  child: ChildProcess;
  exit: Promise<Exit>;
  productionUrl: string;
  sandboxUrl: string;
  apiKey: string;
};

/** Process groups started by startBin, removed whole after each test (a failed test leaves nothing running). */
const groups: number[] = [];
afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

/**
 * Spawns the bin (or a wrapper around it) in a process group of its own, as a terminal's
 * foreground job, and waits for its banner.
 */
async function startBin(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Running> {
  const child = spawn(command, args, { cwd: root, detached: true, env: options.env ?? process.env });
  groups.push(child.pid!);
  const exit = finished(child);
  let out = '';
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (/API key:\s+\S+/.test(out)) resolve(out);
    });
    void exit.then((e) => reject(new Error(`exited with ${e.code} before its banner:\n${e.stdout}\n${e.stderr}`)));
  });
  const match = (re: RegExp) => re.exec(banner)![1]!;
  return {
    child,
    exit,
    productionUrl: match(/\(pk_live_\):\s+(\S+)/),
    sandboxUrl: match(/\(pk_test_\):\s+(\S+)/),
    apiKey: match(/API key:\s+(\S+)/),
  };
}

/** Holds a port, as another program would. */
async function occupyPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Whether the port can be bound again on 127.0.0.1. */
async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const portOf = (url: string) => Number(new URL(url).port);

/** A GET over `agent`, body read; the connection stays open in the agent (keep-alive). */
function get(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent, headers }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode!));
    })
      .on('error', reject)
      .end();
  });
}

/** Keep-alive connections to both listeners, and a delta whose confirmation is scheduled an hour ahead. */
async function busySandbox(sb: Running): Promise<Agent> {
  const delta = await fetch(`${sb.sandboxUrl}/api/v1/balance/delta`, {
    method: 'POST',
    headers: { 'X-Api-Key': sb.apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ customerId: 'customer_001', delta: 1, reason: 'pending work' }),
  });
  expect(delta.status).toBe(201);
  const agent = new Agent({ keepAlive: true });
  // The sandbox closes a connection idle for 5 s; a loaded machine can take that long between the
  // two requests, so both are sent again until both connections are open at once.
  let open = 0;
  for (let attempt = 0; attempt < 5 && open < 2; attempt++) {
    expect(await get(agent, `${sb.sandboxUrl}/api/v1/balance/derive/customer_001`, { 'X-Api-Key': sb.apiKey })).toBe(200);
    expect(await get(agent, `${sb.productionUrl}/api/v1/verify/${'0'.repeat(64)}`)).toBe(404);
    open = Object.values(agent.freeSockets).flat().length;
  }
  expect(open).toBe(2);
  return agent;
}

async function expectStoppedCleanly(sb: Running, exit: Exit) {
  // Nothing on stderr: it closed the idle keep-alive connections itself rather than wait for their
  // timeout, which would close them no sooner than 5 s after their last answer, before the signal
  // (Node adds 1 s more), while the sandbox gives up stopping 5 s after the signal and says so
  // here ("still stopping after 5 s; exiting"). No elapsed-time bound: how long a loaded CI
  // machine takes to stop npm and its shell is no property of the sandbox (a 3 s bound failed there).
  expect(exit.stderr).toBe('');
  expect(await isFree(portOf(sb.productionUrl))).toBe(true);
  expect(await isFree(portOf(sb.sandboxUrl))).toBe(true);
}

describe('pacspace-sandbox', () => {
  it('--version prints the version of mock/package.json', async () => {
    const exit = await runBin(['--version']);
    expect(exit).toEqual({ code: 0, signal: null, stdout: `${pkg.version}\n`, stderr: '' });
  });

  describe('cannot listen: one line on stderr, exit 1', () => {
    it.each([
      ['--port', 'production'],
      ['--sandbox-port', 'sandbox'],
    ])('%s names a port in use (the %s listener)', async (flag) => {
      const taken = await occupyPort();
      try {
        const other = flag === '--port' ? '--sandbox-port' : '--port';
        const exit = await runBin([flag, String(taken.port), other, '0']);
        expect(exit).toEqual({
          code: 1,
          signal: null,
          stdout: '',
          stderr: `pacspace-sandbox: 127.0.0.1:${taken.port} is already in use (${flag}); choose another port or stop the process using it\n`,
        });
      } finally {
        await taken.release();
      }
    });

    it('--host with an address that is not this machine’s', async () => {
      // 192.0.2.1 is TEST-NET-1 (RFC 5737): never a local address, so nothing is bound.
      const exit = await runBin(['--host', '192.0.2.1', ...FREE_PORTS]);
      expect(exit.code).toBe(1);
      expect(exit.stderr).toBe('pacspace-sandbox: cannot listen on 192.0.2.1:0: the address is not available on this machine (--host); use one of its addresses, such as 127.0.0.1\n');
    });
  });

  describe('usage errors: the message and the usage, exit 2', () => {
    it.each([
      [['--port', '70000'], '--port must be an integer from 0 to 65535, got "70000"'],
      [['--port', 'abc'], '--port must be an integer from 0 to 65535, got "abc"'],
      [['--port', '-1'], '--port must be an integer from 0 to 65535, got "-1"'],
      [['--port=-1'], '--port must be an integer from 0 to 65535, got "-1"'],
      [['--port', '1.5'], '--port must be an integer from 0 to 65535, got "1.5"'],
      [['--sandbox-port', '65536'], '--sandbox-port must be an integer from 0 to 65535, got "65536"'],
      [['--port', '5000', '--sandbox-port', '5000'], '--port and --sandbox-port must differ (both are 5000)'],
      [['--port', '4011'], '--port and --sandbox-port must differ (both are 4011)'],
      [['--log-level', 'loud'], '--log-level must be one of silent, error, warn, info, debug, got "loud"'],
      [['--verbose'], "Unknown option '--verbose'"],
      [['--repair'], '--repair needs --data DIR'],
      [['--data-key-file', 'data.key'], '--data-key-file needs --data DIR'],
      [['--data', 'state', '--data-key-file='], '--data-key-file must name a file'],
      [['--chaos', 'package.json'], '--chaos package.json: the settings must NOT have additional properties ("name")'],
    ])('%j', async (args, message) => {
      const exit = await runBin(args);
      expect(exit).toEqual({ code: 2, signal: null, stdout: '', stderr: `pacspace-sandbox: ${message}\n\n${usage}\n` });
    });
  });

  describe('--data with a journal it cannot take as it is', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pacspace-cli-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    /**
     * A data folder of its own: the demo account and an access request, whose approval e-mail
     * is sealed with the folder's data key; with `damage`, one byte of the demo user's record
     * (line 3 of the journal's records) is flipped.
     */
    async function dataFolder(name: string, damage = false): Promise<{ data: string; records: number }> {
      const data = join(dir, name);
      const sb = await startTestSandbox({ dataDir: data });
      try {
        const requested = await sb.dashboard.post('/dashboard/auth/request-access', {
          json: { name: 'Jane Doe', email: 'jane@example.com', organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Record usage before invoices go out.' },
        });
        expect(requested.status).toBe(202);
      } finally {
        await sb.close();
      }
      const journal = join(data, 'journal.ndjson');
      const lines = (await readFile(journal, 'utf8')).split('\n').filter(Boolean);
      expect(lines[2]).toContain('"type":"user.registered"');
      expect(lines.some((l) => l.includes('"$sealed"'))).toBe(true);
      if (damage) await writeFile(journal, lines.map((l, i) => (i === 2 ? l.replace('"name":"', '"name":"X') : l)).join('\n') + '\n');
      return { data, records: lines.length };
    }

    /** Starts the bin and resolves once it prints that it is running. */
    async function running(args: string[]): Promise<{ child: ChildProcess; exit: Promise<Exit> }> {
      const child = spawn(process.execPath, [...BIN, ...FREE_PORTS, ...args], { cwd: root, detached: true });
      groups.push(child.pid!);
      const exit = finished(child);
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('PacSpace sandbox is running')) resolve();
        });
        void exit.then((e) => reject(new Error(`exited with ${e.code} before its banner:\n${e.stdout}\n${e.stderr}`)));
      });
      return { child, exit };
    }

    it('a damaged record in the middle: exit 1 with one line naming it, nothing changed', async () => {
      const { data } = await dataFolder('refused', true);
      const journal = await readFile(join(data, 'journal.ndjson'));
      const exit = await runBin([...FREE_PORTS, '--data', data]);
      expect(exit.code).toBe(1);
      expect(exit.stdout).toBe('');
      expect(exit.stderr).toMatch(
        /^pacspace-sandbox: journal \S+journal\.ndjson: line 3 \(byte offset \d+\) is damaged: its checksum does not match \(2 more records do not verify or depend on one that does not\); nothing was changed\. Start with --repair to keep every record that verifies and move the others aside\.\n$/,
      );
      expect(await readFile(join(data, 'journal.ndjson'))).toEqual(journal);
    }, 30_000);

    it('--repair starts, keeping every record that verifies, and prints the counts in one line', async () => {
      const { data, records } = await dataFolder('repaired', true);
      const { child, exit } = await running(['--data', data, '--repair']);
      child.kill('SIGTERM');
      const { code, stderr } = await exit;
      expect(code).toBe(0);
      // The demo user's record and the two that need it (its verification, its key) are moved aside.
      expect(stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(`^\\[sandbox\\] warn: journal \\S+: repaired: kept ${records - 3} records, moved 3 aside to \\S+journal\\.ndjson\\.repair-\\S+ \\(the first: line 3 \\(byte offset \\d+\\), its checksum does not match\\)$`),
        ),
      ]);
    }, 30_000);

    it('--data-key-file: a wrong key is exit 1 with one line; the key the secrets were sealed with starts it from anywhere', async () => {
      const { data } = await dataFolder('key-file');
      const wrong = join(dir, 'wrong.key');
      await writeFile(wrong, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
      const refused = await runBin([...FREE_PORTS, '--data', data, '--data-key-file', wrong]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^pacspace-sandbox: the secrets in \S+journal\.ndjson were sealed with data key [0-9a-f]{8}, but \S+wrong\.key holds data key [0-9a-f]{8}: start with the key file they were sealed with\n$/,
      );

      const moved = join(dir, 'kept-elsewhere.key');
      await rename(join(data, 'data.key'), moved);
      const { child, exit } = await running(['--data', data, '--data-key-file', moved]);
      child.kill('SIGTERM');
      const stopped = await exit;
      expect([stopped.code, stopped.stderr]).toEqual([0, '']);
    }, 30_000);
  });

  describe('stops on SIGTERM and SIGINT with a keep-alive connection open and work scheduled: exit 0, ports free', () => {
    it.each(['SIGTERM', 'SIGINT'] as const)('%s', async (signal) => {
      const sb = await startBin(process.execPath, [...BIN, ...FREE_PORTS, '--confirmation-ms', '3600000']);
      const agent = await busySandbox(sb);
      sb.child.kill(signal);
      const exit = await sb.exit;
      expect(exit.code).toBe(0);
      expect(exit.signal).toBeNull();
      await expectStoppedCleanly(sb, exit);
      agent.destroy();
    });

    it('Ctrl-C in a terminal: SIGINT to the process group of a shell running it', async () => {
      const sb = await startBin('/bin/sh', ['-c', `${BIN_COMMAND} ${FREE_PORTS.join(' ')}`]);
      const agent = await busySandbox(sb);
      process.kill(-sb.child.pid!, 'SIGINT');
      const exit = await sb.exit;
      await expectStoppedCleanly(sb, exit);
      agent.destroy();
    });

    describe('run by npx (npm exec), which runs it under `sh -c`', () => {
      const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
      const npx = () => startBin('npm', ['exec', '--offline', '-c', `${BIN_COMMAND} ${FREE_PORTS.join(' ')}`], { env });

      it('SIGTERM to npx: npm signals only its shell, which dies of it; the sandbox sees its parent go and stops', async () => {
        const sb = await npx();
        const agent = await busySandbox(sb);
        sb.child.kill('SIGTERM');
        // Resolves once every process holding the output is gone: npm, its shell and the sandbox.
        const exit = await sb.exit;
        await expectStoppedCleanly(sb, exit);
        agent.destroy();
      });

      it('Ctrl-C: SIGINT to the process group of npx', async () => {
        const sb = await npx();
        const agent = await busySandbox(sb);
        process.kill(-sb.child.pid!, 'SIGINT');
        // (npm itself then ends by SIGINT, as its shell did: that is npm's way of reporting it.)
        const exit = await sb.exit;
        await expectStoppedCleanly(sb, exit);
        agent.destroy();
      });
    });
  });
});
