// Secrets the operator generates once and then never changes (a new signing key would log every
// user out; a new database password would lock the services out of their data). The plan says which
// must exist; controller/secret-generator.ts makes their contents, only when one is missing.
import type { FreeChat } from '../api/freechat.js';
import { postgresSecretName } from './endpoints.js';
import { APP_COMPONENTS, childName, internalServerName, serviceHost, type AppComponent } from './names.js';

export type GeneratedSecretSpec =
  | { readonly type: 'password'; readonly key: string }
  | { readonly type: 'signing-key'; readonly key: string }
  /** A certificate authority: ca.crt and ca.key (never mounted into a pod). */
  | { readonly type: 'tls-ca' }
  /** ca.crt, tls.crt, tls.key: a certificate signed by the CA in `caSecret`, for server and client use. */
  | { readonly type: 'tls-leaf'; readonly caSecret: string; readonly commonName: string; readonly hosts: readonly string[] };

export interface GeneratedSecret {
  readonly name: string;
  readonly component: string;
  readonly spec: GeneratedSecretSpec;
}

export const signingKeySecretName = (fc: FreeChat): string => childName(fc, 'auth-signing-key');
export const caSecretName = (fc: FreeChat): string => childName(fc, 'ca');
export const tlsSecretName = (fc: FreeChat, component: AppComponent): string => childName(fc, `${component}-tls`);

/** The names a component's certificate covers: its Service, and the instance's internal name its callers check. */
export function certificateHosts(fc: FreeChat, component: AppComponent): string[] {
  const service = serviceHost(fc, component);
  return [internalServerName(fc), childName(fc, component), service, `${service}.cluster.local`, 'localhost', '127.0.0.1'];
}

/** In creation order: a leaf after the CA that signs it. */
export function generatedSecrets(fc: FreeChat): GeneratedSecret[] {
  const secrets: GeneratedSecret[] = [{ name: signingKeySecretName(fc), component: 'auth', spec: { type: 'signing-key', key: 'key.pem' } }];
  if (fc.spec.postgres.managed) secrets.push({ name: postgresSecretName(fc), component: 'postgres', spec: { type: 'password', key: 'password' } });
  if (fc.spec.security.mtls) {
    secrets.push({ name: caSecretName(fc), component: 'ca', spec: { type: 'tls-ca' } });
    for (const component of APP_COMPONENTS) {
      secrets.push({
        name: tlsSecretName(fc, component),
        component,
        spec: { type: 'tls-leaf', caSecret: caSecretName(fc), commonName: childName(fc, component), hosts: certificateHosts(fc, component) },
      });
    }
  }
  return secrets;
}
