// The data key of a `--data` directory: 32 random bytes that seal, with AES-256-GCM, the few
// secrets the sandbox must be able to read back (webhook signing secrets sign every delivery;
// the outbox shows the e-mailed links to the operator). Everything else secret is stored as a
// one-way hash. The key lives in its own file, mode 0600: beside the journal (`DIR/data.key`,
// made on the first start) or wherever `--data-key-file` says, so a copied journal alone
// reveals nothing.
//
// A sealed value is `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts); the key id (8 hex
// characters of an HMAC of the key, never the key) tells a wrong key from a damaged value, and
// the additional data binds each value to the event field it belongs to.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';

export const DATA_KEY_FILE = 'data.key';

export type DataKey = {
  /** Identifies the key in sealed values (not secret). */
  readonly id: string;
  readonly file: string;
  seal(plaintext: string, context: string): string;
  /** The plaintext; throws a SealError when the value is not this key's or is damaged. */
  open(sealed: string, context: string): string;
};

/** Why a sealed value could not be opened: another key sealed it, or it is damaged. */
export class SealError extends Error {
  override readonly name = 'SealError';
  constructor(
    readonly kind: 'other-key' | 'damaged',
    /** The key id the value names (for `other-key`). */
    readonly keyId?: string,
  ) {
    super(kind === 'other-key' ? `sealed with data key ${keyId}` : 'the sealed value does not open');
  }
}

/** The start fails: the key file is missing, unreadable or not a key. One line. */
export class DataKeyError extends Error {
  override readonly name = 'DataKeyError';
}

const keyIdOf = (key: Buffer) => createHmac('sha256', key).update('pacspace data key id').digest('hex').slice(0, 8);
const b64 = (b: Buffer) => b.toString('base64url');

export function dataKeyFrom(key: Buffer, file: string): DataKey {
  if (key.length !== 32) throw new RangeError('a data key is 32 bytes');
  const id = keyIdOf(key);
  return {
    id,
    file,
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `v1.${id}.${b64(iv)}.${b64(ciphertext)}.${b64(cipher.getAuthTag())}`;
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new SealError('damaged');
      const [, kid, iv, ciphertext, tag] = parts as [string, string, string, string, string];
      if (kid !== id) throw new SealError('other-key', kid);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SealError('damaged');
      }
    },
  };
}

/** The key in `file`, or undefined when there is no such file. */
export async function readDataKey(file: string, warn: (message: string) => void = () => {}): Promise<DataKey | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new DataKeyError(`cannot read the data key file ${file} (${code ?? 'error'})`);
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new DataKeyError(`${file} is not a PacSpace data key (expected 64 hexadecimal characters)`);
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) warn(`the data key file ${file} can be read by others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`);
  return dataKeyFrom(Buffer.from(hex, 'hex'), file);
}

/** Makes a new key file (mode 0600); fails if one appeared meanwhile rather than replace it. */
export async function createDataKey(file: string): Promise<DataKey> {
  const key = randomBytes(32);
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    throw new DataKeyError(`cannot create the data key file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    await handle.writeFile(`${key.toString('hex')}\n`);
    await handle.sync();
  } catch (error) {
    // A half-written key would fail every later start: leave none.
    await handle.close();
    await unlink(file).catch(() => {});
    throw new DataKeyError(`cannot write the data key file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  await handle.close();
  return dataKeyFrom(key, file);
}
