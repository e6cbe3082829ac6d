// Where a process spends its time, from a V8 CPU profile (`node --cpu-prof`): self time summed
// per function and per part of the stack (Node's HTTP internals, Prism, Ajv, pino, the
// sandbox's own modules, the protocol code, GC, idle), for the benchmark report.
import { readFileSync } from 'node:fs';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
type Profile = { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

export type ProfileSummary = {
  totalMs: number;
  parts: { part: string; ms: number; share: number }[];
  functions: { name: string; where: string; part: string; ms: number; share: number }[];
};

/** The part of the system a stack frame belongs to, by its script URL. */
export function partOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)' || name === '(program)') return name === '(idle)' ? 'idle' : 'V8/native (program)';
  if (!url) return 'V8/native';
  if (url.startsWith('node:')) return /http|net|stream|_http|events|buffer/.test(url) ? 'Node HTTP, streams and sockets' : 'Node (other built-ins)';
  if (/node_modules\/@stoplight\//.test(url)) return 'Prism (@stoplight)';
  if (/node_modules\/ajv/.test(url)) return 'Ajv';
  if (/node_modules\/(pino|sonic-boom|thread-stream)/.test(url)) return 'pino logging';
  if (/node_modules\/(fp-ts|lodash|tslib)/.test(url)) return 'fp-ts/lodash (Prism deps)';
  if (/node_modules\/(tsx|esbuild|get-tsconfig)/.test(url)) return 'tsx loader';
  if (/node_modules\//.test(url)) return `other packages (${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?'})`;
  if (/\/mock\//.test(url)) return `sandbox mock/${/\/mock\/([^/]+)\//.exec(url)?.[1] ?? ''}`;
  if (/\/protocol\//.test(url)) return 'protocol/';
  return 'other';
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parts = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; part: string; us: number }>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const part = partOf(url, functionName);
    total += us;
    parts.set(part, (parts.get(part) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules\/|mock\/|protocol\/)/, '$1').replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const f = functions.get(key) ?? { name: functionName || '(anonymous)', where, part, us: 0 };
    f.us += us;
    functions.set(key, f);
  }
  const ms = (us: number) => us / 1000;
  return {
    totalMs: ms(total),
    parts: [...parts].map(([part, us]) => ({ part, ms: ms(us), share: us / total })).sort((a, b) => b.ms - a.ms),
    functions: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, top).map((f) => ({ name: f.name, where: f.where, part: f.part, ms: ms(f.us), share: f.us / total })),
  };
}
