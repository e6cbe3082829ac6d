// stopOnSignals with a stand-in process: what each signal, a hanging or failing stop, and a
// vanished parent make it do. The real binary under real signals is mock/cli.test.ts.
import { describe, expect, it, vi } from 'vitest';
import { stopOnSignals, type ShutdownHost, type ShutdownTiming } from './shutdown.ts';

function fakeProcess(env: NodeJS.ProcessEnv = {}) {
  const listeners = new Map<string, (signal: NodeJS.Signals) => void>();
  let exited: (code: number) => void;
  const host = {
    env,
    ppid: 100,
    stderr: { text: '', write: (text: string) => (host.stderr.text += text) },
    exitCodes: [] as number[],
    exited: new Promise<number>((resolve) => (exited = resolve)),
    on: (event: string, listener: (signal: NodeJS.Signals) => void) => listeners.set(event, listener),
    exit: (code: number) => {
      host.exitCodes.push(code);
      exited(code);
    },
    signal: (signal: NodeJS.Signals) => listeners.get(signal)!(signal),
  };
  return host satisfies ShutdownHost;
}

const timing = (t: Partial<ShutdownTiming> = {}): ShutdownTiming => ({ duplicateWithinMs: 0, stopTimeoutMs: 60_000, parentCheckMs: 5, ...t });

/** A stop that finishes when told to. */
function pendingStop() {
  let finish!: () => void;
  const stop = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
  return { stop, finish: () => finish() };
}

describe('stopOnSignals', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the sandbox, then exits 0', async (signal) => {
    const host = fakeProcess();
    const { stop, finish } = pendingStop();
    const state = stopOnSignals(stop, host, timing());
    expect(state.stopping).toBe(false);
    host.signal(signal);
    expect(state.stopping).toBe(true);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(host.exitCodes).toEqual([]);
    finish();
    expect(await host.exited).toBe(0);
    expect(host.stderr.text).toBe('');
  });

  it('a second signal while stopping exits at once with 128 + its number', async () => {
    const host = fakeProcess();
    const { stop } = pendingStop();
    stopOnSignals(stop, host, timing());
    host.signal('SIGTERM');
    host.signal('SIGINT');
    expect(host.exitCodes).toEqual([130]);
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it('the same signal again right away is one request delivered twice (a terminal and npm both sending Ctrl-C)', async () => {
    const host = fakeProcess();
    const { stop, finish } = pendingStop();
    stopOnSignals(stop, host, timing({ duplicateWithinMs: 60_000 }));
    host.signal('SIGINT');
    host.signal('SIGINT');
    expect(host.exitCodes).toEqual([]);
    host.signal('SIGTERM');
    expect(host.exitCodes).toEqual([143]);
    finish();
  });

  it('a stop that fails or hangs exits 1 with one line', async () => {
    const failing = fakeProcess();
    stopOnSignals(() => Promise.reject(new Error('journal could not be closed')), failing, timing());
    failing.signal('SIGTERM');
    expect(await failing.exited).toBe(1);
    expect(failing.stderr.text).toBe('pacspace-sandbox: could not stop cleanly: journal could not be closed\n');

    const hanging = fakeProcess();
    stopOnSignals(() => new Promise<void>(() => {}), hanging, timing({ stopTimeoutMs: 20 }));
    hanging.signal('SIGTERM');
    expect(await hanging.exited).toBe(1);
    expect(hanging.stderr.text).toBe('pacspace-sandbox: still stopping after 0.02 s; exiting\n');
  });

  it('run by npm, it stops once its parent (npm’s shell) is gone; otherwise the parent is not watched', async () => {
    const underNpm = fakeProcess({ npm_lifecycle_event: 'npx' });
    const stop = vi.fn(async () => {});
    stopOnSignals(stop, underNpm, timing());
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stop).not.toHaveBeenCalled();
    underNpm.ppid = 1;
    expect(await underNpm.exited).toBe(0);
    expect(stop).toHaveBeenCalledTimes(1);

    const direct = fakeProcess();
    const notStopped = vi.fn(async () => {});
    stopOnSignals(notStopped, direct, timing());
    direct.ppid = 1;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(notStopped).not.toHaveBeenCalled();
  });
});
