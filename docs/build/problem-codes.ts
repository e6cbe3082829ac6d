// The errors reference, generated from the contract: every `code` of
// openapi/components/schemas/ProblemCode.yaml (its `enum`, with status and meaning from the table
// in its description) and the operations whose documented responses carry it. The build fails if
// the enum and the table disagree, so the page can never drift from the contract.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ERROR_CLASS_BY_STATUS } from '../../sdk/errors.ts';
import { deref, ROOT, type Json, type Operation } from './contract.ts';

export const PROBLEM_CODE_YAML = `${ROOT}openapi/components/schemas/ProblemCode.yaml`;

export type ProblemCodeRow = { code: string; status: number; meaning: string; operations: string[] };

/** The SDK error class thrown for each status, by name: the SDK's own table (sdk/errors.ts). */
export const SDK_ERROR_CLASS: Record<number, string> = Object.fromEntries(
  Object.entries(ERROR_CLASS_BY_STATUS).map(([status, ErrorClass]) => [Number(status), ErrorClass.name]),
);

/** Every problem `code` of the documented error responses of an operation (from their examples). */
function codesOf(spec: Json, op: Operation): Set<string> {
  const codes = new Set<string>();
  for (const [status, rawResponse] of Object.entries(op.object.responses ?? {})) {
    if (!/^[45]/.test(status)) continue;
    const response = deref(spec, rawResponse);
    for (const media of Object.values(response.content ?? {}) as Json[]) {
      for (const example of Object.values(media.examples ?? {}) as Json[]) {
        const code = deref(spec, example).value?.code;
        if (typeof code === 'string') codes.add(code);
      }
    }
  }
  return codes;
}

export function problemCodes(spec: Json, operations: Operation[], file = PROBLEM_CODE_YAML): ProblemCodeRow[] {
  const schema = parse(readFileSync(file, 'utf8'));
  const enumCodes: string[] = schema.enum ?? [];
  const table = new Map<string, { status: number; meaning: string }>();
  for (const line of String(schema.description ?? '').split('\n')) {
    const match = /^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|\s*(.+?)\s*\|\s*$/.exec(line);
    if (match) table.set(match[1]!, { status: Number(match[2]), meaning: match[3]! });
  }
  const missing = enumCodes.filter((code) => !table.has(code));
  const extra = [...table.keys()].filter((code) => !enumCodes.includes(code));
  if (missing.length || extra.length || enumCodes.length === 0) {
    throw new Error(
      `docs: ProblemCode.yaml's enum and its description table disagree (no row: ${missing.join(', ') || 'none'}; not in enum: ${extra.join(', ') || 'none'})`,
    );
  }
  const byOperation = operations.filter((op) => op.kind === 'path').map((op) => [op, codesOf(spec, op)] as const);
  return enumCodes.map((code) => ({
    code,
    ...table.get(code)!,
    operations: byOperation.filter(([, codes]) => codes.has(code)).map(([op]) => op.operationId),
  }));
}
