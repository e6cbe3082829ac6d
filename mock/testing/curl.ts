// Runs the real `curl` binary the way the quick start does, in a working folder (for the
// cookie jar), and returns status, response headers and parsed body. `-sS -D` only adds
// quiet mode and a header dump; a contract violation flagged by the sandbox fails the test.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function createCurl(workDir: () => string) {
  let counter = 0;
  return async function curl(args: string[]) {
    const headerFile = join(workDir(), `headers-${++counter}.txt`);
    const { stdout } = await run('curl', [...args, '-sS', '-D', headerFile], { cwd: workDir() });
    const head = await readFile(headerFile, 'utf8');
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]);
    if (head.toLowerCase().includes('sl-violations')) throw new Error(`curl ${args.join(' ')} → a response that violates the contract:\n${head}`);
    return { status, head, body: stdout ? JSON.parse(stdout) : undefined };
  };
}
