// A request that fails inside the sandbox (a bug in a handler): the client gets the documented
// 500 problem with its request id and nothing internal, the failure is reported once through the
// sandbox's log (the id and the error's name, never its message, which may quote the request),
// and the app goes on serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handler } from './domain/handler.ts';
import { apiHandlers } from './domain/index.ts';
import { createLogger } from './logger.ts';
import { startInProcessApp, type InProcessApp } from './testing/in-process-app.ts';

const logged: string[] = [];
let failing = true;
let sandbox: InProcessApp;

beforeAll(async () => {
  const derive: Handler = (ctx) => {
    if (failing) throw new TypeError(`cannot read ${ctx.headers['x-api-key']}`);
    return apiHandlers.deriveBalance!(ctx);
  };
  sandbox = await startInProcessApp({ deriveBalance: derive }, { app: { log: createLogger('error', (line) => logged.push(line)) } });
});

afterAll(() => sandbox?.stop());

const derive = () => sandbox.derive();

describe('a handler that throws', () => {
  it('answers 500 internal_error with the request id, logs one line without the error message, and keeps serving', async () => {
    const res = await derive();
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const body = JSON.parse(res.body!);
    const requestId = res.headers['x-request-id'];
    expect(body).toMatchObject({ status: 500, code: 'internal_error', requestId });
    expect(res.body).not.toContain(sandbox.apiKey);
    expect(res.body).not.toContain('cannot read');
    expect(logged).toEqual([`[sandbox] error: ${requestId} failed: TypeError`]);
    failing = false;
    expect((await derive()).status).toBe(200);
    expect(logged).toHaveLength(1);
  });
});
