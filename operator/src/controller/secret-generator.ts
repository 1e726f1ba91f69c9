// The contents of the Secrets the operator generates once (plan/secrets.ts says which).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createCertificateAuthority, issueCertificate } from '@freechat/shared/dev-tls';
import type { GeneratedSecretSpec } from '../plan/secrets.js';

/** `readSecret` reads another generated Secret's data (a leaf needs its CA). */
export function generateSecretData(spec: GeneratedSecretSpec, readSecret: (name: string) => Promise<Record<string, string> | undefined>): Promise<Record<string, string>> {
  switch (spec.type) {
    case 'password':
      return Promise.resolve({ [spec.key]: randomBytes(24).toString('base64url') });
    case 'signing-key': {
      // What auth verifies access tokens with: ES256, PKCS#8 PEM.
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return Promise.resolve({ [spec.key]: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    }
    case 'tls-ca': {
      const ca = createCertificateAuthority('Free Chat service CA');
      return Promise.resolve({ 'ca.crt': ca.certPem, 'ca.key': ca.keyPem });
    }
    case 'tls-leaf':
      return readSecret(spec.caSecret).then((ca) => {
        if (!ca?.['ca.crt'] || !ca['ca.key']) throw new Error(`Secret ${spec.caSecret} has no ca.crt/ca.key yet`);
        const leaf = issueCertificate({ certPem: ca['ca.crt'], keyPem: ca['ca.key'] }, { commonName: spec.commonName, hosts: spec.hosts });
        return { 'ca.crt': ca['ca.crt'], 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem };
      });
  }
}
