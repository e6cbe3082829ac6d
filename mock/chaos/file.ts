// `--chaos FILE`: the settings a sandbox starts with, read and checked before anything is
// opened. Every way it can be wrong is one line naming the file (the CLI adds the usage).
import { readFileSync } from 'node:fs';
import { checkChaosSettings } from './check.ts';
import type { ChaosSettings } from './settings.ts';

export class ChaosFileError extends Error {
  override readonly name = 'ChaosFileError';
}

export function readChaosFile(file: string): ChaosSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new ChaosFileError(`--chaos cannot read ${file}: ${why}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ChaosFileError(`--chaos ${file} is not JSON: ${(error as Error).message}`);
  }
  const checked = checkChaosSettings(value);
  if (!checked.ok) throw new ChaosFileError(`--chaos ${file}: ${checked.problem}`);
  return checked.settings;
}
