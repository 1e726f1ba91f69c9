// The ES256 signing key: loaded from auth.signingKeyFile, or generated once and kept under dataDir
// outside production. Also its public JWK, its RFC 7638 thumbprint (the `kid`) and the JWKS.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Logger } from '@freechat/shared';

export interface PublicEcJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

export interface JwksKey extends PublicEcJwk {
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  readonly jwk: JwksKey;
}

export type SigningKeySource = 'file' | 'generated' | 'kept';

export interface LoadSigningKeyOptions {
  readonly env: 'development' | 'production';
  /** Absolute path, or '' to use the generated key under dataDir. */
  readonly signingKeyFile: string;
  readonly dataDir: string;
  readonly logger?: Logger;
}

const KEY_PATH = 'auth.signingKeyFile';

/** Where a development key is generated and kept: `<dataDir>/auth/signing-key.pem`. */
export function generatedKeyPath(dataDir: string): string {
  return path.join(dataDir, 'auth', 'signing-key.pem');
}

export async function loadSigningKey(options: LoadSigningKeyOptions): Promise<SigningKey & { source: SigningKeySource; file: string }> {
  if (options.signingKeyFile) {
    const pem = await readFile(options.signingKeyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw configError(`cannot read ${options.signingKeyFile}: ${error.code ?? error.message}`);
    });
    return { ...signingKeyFromPem(pem), source: 'file', file: options.signingKeyFile };
  }
  if (options.env === 'production') {
    throw configError('required in production (set FREECHAT_AUTH_SIGNING_KEY_FILE to a PKCS#8 P-256 PEM file)');
  }
  const file = generatedKeyPath(options.dataDir);
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined) {
    if (((await stat(file)).mode & 0o077) !== 0) {
      await chmod(file, 0o600);
      options.logger?.warn({ file }, 'signing key was readable by others; mode set to 600');
    }
    return { ...signingKeyFromPem(existing, file), source: 'kept', file };
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: two replicas sharing a data dir must not overwrite each other's key.
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { ...signingKeyFromPem(await readFile(file, 'utf8'), file), source: 'kept', file };
  }
  options.logger?.warn({ file }, 'no auth.signingKeyFile: generated a development signing key');
  return { ...signingKeyFromPem(pem, file), source: 'generated', file };
}

/** Accepts a PKCS#8 (or SEC1) PEM private key on P-256; anything else is a ConfigError. */
export function signingKeyFromPem(pem: string, file?: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw configError(`${file ? `${file} ` : ''}is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw configError(`${file ? `${file} ` : ''}must be an EC P-256 key (ES256)`);
  }
  const publicKey = createPublicKey(privateKey);
  const exported = publicKey.export({ format: 'jwk' });
  const jwk: PublicEcJwk = { kty: 'EC', crv: 'P-256', x: String(exported.x), y: String(exported.y) };
  const kid = jwkThumbprint(jwk);
  return { privateKey, publicKey, kid, jwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace, base64url. */
export function jwkThumbprint(jwk: PublicEcJwk): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The document GetPublicKeys returns; a list so a key rotation can publish old and new together. */
export function toJwks(keys: readonly SigningKey[]): { keys: JwksKey[] } {
  return { keys: keys.map((k) => k.jwk) };
}

function configError(message: string): ConfigError {
  return new ConfigError('auth', [{ path: KEY_PATH, message }]);
}
