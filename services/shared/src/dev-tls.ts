// A development certificate authority and one certificate per service, for `make run` and tests:
// files in the shape mutual TLS is configured from (grpc.tls.caFile / certFile / keyFile), so the
// same code runs with these as with certificates an operator issues. Never for production: the
// CA's key sits next to the certificates it signed.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import forge from 'node-forge';

export interface PemIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  readonly commonName: string;
  /** DNS names and IP addresses the certificate is valid for (the hosts callers dial). */
  readonly hosts: readonly string[];
  readonly validDays?: number;
}

const DAY_MS = 86_400_000;

function newSerial(): string {
  // Positive (leading byte below 0x80), 16 random bytes.
  return '01' + forge.util.bytesToHex(forge.random.getBytesSync(15));
}

function validity(cert: forge.pki.Certificate, days: number): void {
  // A minute back, so a clock a little behind does not see it as not yet valid.
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
}

/** A self-signed CA (RSA 2048, SHA-256). */
export function createCertificateAuthority(commonName: string, validDays = 3650): PemIdentity {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = newSerial();
  validity(cert, validDays);
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A leaf certificate signed by `ca`, usable both as a TLS server and as a TLS client. */
export function issueCertificate(ca: PemIdentity, options: IssueOptions): PemIdentity {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = newSerial();
  validity(cert, options.validDays ?? 825);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    // type 2: DNS name, type 7: IP address.
    { name: 'subjectAltName', altNames: options.hosts.map((host) => (isIP(host) ? { type: 7, ip: host } : { type: 2, value: host })) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

export interface DevCertificates {
  readonly dir: string;
  readonly caFile: string;
  /** Per name: the files to set as FREECHAT_TLS_CERT_FILE / FREECHAT_TLS_KEY_FILE. */
  readonly identities: Readonly<Record<string, { readonly certFile: string; readonly keyFile: string }>>;
  /** True when this call wrote new files (first start, or the old ones were unusable). */
  readonly created: boolean;
}

export interface EnsureDevCertificatesOptions {
  readonly dir: string;
  /** One certificate each, e.g. auth, chat, inference, gateway; the name is also a DNS SAN. */
  readonly names: readonly string[];
  /** Hosts every certificate is valid for besides its name. Default: localhost, 127.0.0.1, ::1. */
  readonly hosts?: readonly string[];
}

/** Renewed this long before expiry, so a long-running `make run` never meets an expired one. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

/**
 * Reuses the CA and the certificates in `dir` when they are all present, signed by that CA, match
 * their keys, cover the hosts and are not near expiry; otherwise writes a new set (keys mode 0600).
 */
export function ensureDevCertificates(options: EnsureDevCertificatesOptions): DevCertificates {
  const hosts = options.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const dir = path.resolve(options.dir);
  const caFile = path.join(dir, 'ca.crt');
  const caKeyFile = path.join(dir, 'ca.key');
  const identities = Object.fromEntries(
    options.names.map((name) => [name, { certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) }]),
  );
  if (usable(caFile, caKeyFile, identities, hosts)) return { dir, caFile, identities, created: false };

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = createCertificateAuthority('Free Chat development CA');
  writeFileSync(caKeyFile, ca.keyPem, { mode: 0o600 });
  writeFileSync(caFile, ca.certPem);
  for (const name of options.names) {
    const issued = issueCertificate(ca, { commonName: name, hosts: [name, ...hosts] });
    writeFileSync(identities[name]!.keyFile, issued.keyPem, { mode: 0o600 });
    writeFileSync(identities[name]!.certFile, issued.certPem);
  }
  return { dir, caFile, identities, created: true };
}

function usable(
  caFile: string,
  caKeyFile: string,
  identities: Record<string, { certFile: string; keyFile: string }>,
  hosts: readonly string[],
): boolean {
  const files = [caFile, caKeyFile, ...Object.values(identities).flatMap((i) => [i.certFile, i.keyFile])];
  if (!files.every((file) => existsSync(file))) return false;
  try {
    const ca = new X509Certificate(readFileSync(caFile));
    const fresh = (cert: X509Certificate) => new Date(cert.validTo).getTime() - Date.now() > RENEW_BEFORE_MS;
    if (!ca.ca || !fresh(ca) || !ca.checkPrivateKey(createPrivateKey(readFileSync(caKeyFile)))) return false;
    return Object.values(identities).every(({ certFile, keyFile }) => {
      const cert = new X509Certificate(readFileSync(certFile));
      return (
        cert.verify(ca.publicKey) &&
        fresh(cert) &&
        cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile))) &&
        hosts.every((host) => (isIP(host) ? cert.checkIP(host) : cert.checkHost(host)) !== undefined)
      );
    });
  } catch {
    return false;
  }
}
