// Chaos settings that did not come through the control surface — `--chaos FILE` and the
// `chaos` option of startSandbox — checked against the same contract: the control bundle's
// ChaosSettings (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 has it), then settingsViolations.
// The first problem is told in one line, e.g. `operations.recordDelta.error.rate must be <= 1`.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { loadBundle } from '../../contract/document.ts';
import { settingsViolations, type ChaosSettings } from './settings.ts';

let validate: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  if (!validate) {
    // Compiled on first use only: a sandbox without chaos never pays for it.
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
    ajv.addSchema(loadBundle('sandbox-control'), 'sandbox-control');
    validate = ajv.compile({ $ref: 'sandbox-control#/components/schemas/ChaosSettings' });
  }
  return validate;
}

/** The settings, or the first thing wrong with them in one line. */
export function checkChaosSettings(value: unknown): { ok: true; settings: ChaosSettings } | { ok: false; problem: string } {
  const validator = schemaValidator();
  if (!validator(value)) return { ok: false, problem: describe(firstError(validator.errors ?? [], value)) };
  const settings = value as ChaosSettings;
  const [violation] = settingsViolations(settings);
  if (violation) return { ok: false, problem: `${where(violation.location)}: ${violation.message}` };
  return { ok: true, settings };
}

/**
 * The error that names the mistake. A latency is a oneOf by `distribution` (ChaosLatency): an
 * error of a branch for another distribution says nothing about this one, so the error comes
 * from the branch of its `distribution`, or names the distributions there are.
 */
function firstError(errors: ErrorObject[], value: unknown): ErrorObject | undefined {
  const branches: unknown[] = loadBundle('sandbox-control').components.schemas.ChaosLatency.oneOf.map((b: any) => b.properties.distribution.const);
  const branchOf = (e: ErrorObject) => /\/oneOf\/(\d+)\//.exec(e.schemaPath)?.[1];
  const oneOf = errors.find((e) => e.keyword === 'oneOf');
  if (!oneOf) return errors[0];
  const latency = oneOf.instancePath.split('/').slice(1).reduce((node: any, key) => node?.[key], value);
  const chosen = branches.indexOf(latency?.distribution);
  if (chosen < 0) {
    return { ...oneOf, instancePath: `${oneOf.instancePath}/distribution`, keyword: 'const', message: `must be one of ${branches.map((b) => JSON.stringify(b)).join(', ')}` };
  }
  return errors.find((e) => branchOf(e) === String(chosen)) ?? oneOf;
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'does not match ChaosSettings';
  const location = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = error.keyword === 'additionalProperties' ? ` ("${String(error.params.additionalProperty)}")` : error.keyword === 'enum' ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : '';
  return `${where(location)} ${error.message ?? 'is not valid'}${extra}`;
}

const where = (location: string[]) => (location.length === 0 ? 'the settings' : location.join('.'));
