// Mutual TLS and message size limits on real gRPC servers from createGrpcServer, called through the
// channel provider (the one client path) and through plain grpc-js clients standing in for an
// intruder: one without a certificate, one with a certificate from another CA.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCertificateAuthority, ensureDevCertificates, issueCertificate } from '../src/dev-tls.js';
import {
  checkGrpcHealth,
  ConfigError,
  createChannelProvider,
  createGrpcServer,
  createGrpcTransport,
  createLogger,
  createStaticSource,
  DEFAULT_MAX_MESSAGE_BYTES,
  GRPC_TRANSPORT_ENV,
  loadConfig,
  PLAINTEXT_TRANSPORT_CONFIG,
  serviceConfigBase,
  type GrpcServerHandle,
  type GrpcTransportConfig,
} from '../src/index.js';
import { echoService } from './support/echo-service.js';

const logger = createLogger({ service: 'grpc-transport-test', level: 'silent' });
/** Answers `size` bytes when the request is 4 bytes holding a size, else echoes the request. */
const echoImplementation: grpc.UntypedServiceImplementation = {
  echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
    callback(null, call.request.length === 4 ? Buffer.alloc(call.request.readUInt32BE(0), 1) : call.request),
};
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'test.v1.Echo');
type Echo = { echo(request: Buffer, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Buffer) => void): void };

const sizeRequest = (size: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(size);
  return b;
};

function call(client: Echo, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    client.echo(request, { deadline: new Date(Date.now() + 5_000) }, (error, response) => (error ? reject(error) : resolve(response!))),
  );
}

let dir: string;
let certs: ReturnType<typeof ensureDevCertificates>;
let rogue: { certFile: string; keyFile: string };
const tlsOf = (name: 'server' | 'client'): GrpcTransportConfig => ({
  ...PLAINTEXT_TRANSPORT_CONFIG,
  tls: { caFile: certs.caFile, ...certs.identities[name]! },
});

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'freechat-tls-'));
  certs = ensureDevCertificates({ dir: path.join(dir, 'tls'), names: ['server', 'client'] });
  // Another CA's certificate, valid in every other way (same names, both usages).
  const other = createCertificateAuthority('another CA');
  const issued = issueCertificate(other, { commonName: 'client', hosts: ['client', 'localhost', '127.0.0.1'] });
  rogue = { certFile: path.join(dir, 'rogue.crt'), keyFile: path.join(dir, 'rogue.key') };
  writeFileSync(rogue.certFile, issued.certPem);
  writeFileSync(rogue.keyFile, issued.keyPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(config: GrpcTransportConfig): Promise<{ handle: GrpcServerHandle; address: string }> {
  const handle = createGrpcServer({
    logger,
    transport: createGrpcTransport(config),
    services: [{ name: 'test.v1.Echo', definition: echoService, implementation: echoImplementation }],
  });
  const port = await handle.listen('127.0.0.1:0');
  cleanups.push(() => handle.shutdown({ graceMs: 0 }));
  return { handle, address: `127.0.0.1:${port}` };
}

/** A balanced client through the channel provider, as every service calls another. */
function providerClient(address: string, config: GrpcTransportConfig): Echo {
  const channels = createChannelProvider({ source: createStaticSource({ chat: address }), logger, transport: createGrpcTransport(config) });
  cleanups.push(() => channels.close());
  return channels.client('chat', EchoClient as never) as unknown as Echo;
}

function rawClient(address: string, credentials: grpc.ChannelCredentials): Echo {
  const client = new EchoClient(address, credentials);
  cleanups.push(() => client.close());
  return client as unknown as Echo;
}

describe('mutual TLS', () => {
  it('serves a client presenting a certificate from the CA, and refuses one without a certificate, one from another CA, and plaintext', async () => {
    const { handle, address } = await startServer(tlsOf('server'));
    handle.setServing(true);
    const ca = createGrpcTransport(tlsOf('client'));
    expect(ca.mode).toBe('mtls');

    expect((await call(providerClient(address, tlsOf('client')), Buffer.from('hello'))).toString()).toBe('hello');
    expect(await checkGrpcHealth(address, { credentials: ca.channelCredentials() })).toBe('SERVING');

    const { readFileSync } = await import('node:fs');
    const caPem = readFileSync(certs.caFile);
    const refusals = [
      // Trusts the server, has no certificate of its own.
      rawClient(address, grpc.credentials.createSsl(caPem)),
      // A certificate the server's CA never signed.
      rawClient(address, grpc.credentials.createSsl(caPem, readFileSync(rogue.keyFile), readFileSync(rogue.certFile))),
      rawClient(address, grpc.credentials.createInsecure()),
    ];
    for (const client of refusals) {
      await expect(call(client, Buffer.from('hello'))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    }
    expect(await checkGrpcHealth(address, { timeoutMs: 1_000 })).toBe('UNREACHABLE');
  });

  it('a client refuses a server whose certificate is not from its CA', async () => {
    const { handle, address } = await startServer({ ...PLAINTEXT_TRANSPORT_CONFIG, tls: { caFile: rogue.certFile, ...rogue } });
    handle.setServing(true);
    await expect(call(providerClient(address, tlsOf('client')), Buffer.from('hello'))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('with tls.serverName, verifies a server dialled by IP against that name instead (pods found in Consul)', async () => {
    // A certificate that names neither 127.0.0.1 nor localhost: only the shared internal name.
    const { readFileSync } = await import('node:fs');
    const ca = { certPem: readFileSync(certs.caFile, 'utf8'), keyPem: readFileSync(path.join(certs.dir, 'ca.key'), 'utf8') };
    const issued = issueCertificate(ca, { commonName: 'pod', hosts: ['freechat.team.freechat.internal'] });
    const pod = { certFile: path.join(dir, 'pod.crt'), keyFile: path.join(dir, 'pod.key') };
    writeFileSync(pod.certFile, issued.certPem);
    writeFileSync(pod.keyFile, issued.keyPem);
    const { handle, address } = await startServer({ ...PLAINTEXT_TRANSPORT_CONFIG, tls: { caFile: certs.caFile, ...pod } });
    handle.setServing(true);
    await expect(call(providerClient(address, tlsOf('client')), Buffer.from('by address'))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const named = { ...tlsOf('client'), tls: { ...tlsOf('client').tls, serverName: 'freechat.team.freechat.internal' } };
    expect((await call(providerClient(address, named), Buffer.from('by name'))).toString()).toBe('by name');
    const wrong = { ...tlsOf('client'), tls: { ...tlsOf('client').tls, serverName: 'other.freechat.internal' } };
    await expect(call(providerClient(address, wrong), Buffer.from('wrong name'))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('serves readiness as plain HTTP on a port of its own, which is what Consul is told to check', async () => {
    const { handle } = await startServer(tlsOf('server'));
    const port = handle.healthPort()!;
    expect(handle.healthCheck()).toEqual({ kind: 'http', path: '/readyz', port });
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    handle.setServing(true);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // Plaintext keeps Consul's gRPC health check and opens no second port.
    const { handle: plain } = await startServer(PLAINTEXT_TRANSPORT_CONFIG);
    expect([plain.healthCheck(), plain.healthPort()]).toEqual([{ kind: 'grpc' }, undefined]);
  });
});

describe('the grpc config section', () => {
  const schema = z.strictObject(serviceConfigBase);
  const load = (env: Record<string, string>) => {
    const configDir = mkdtempSync(path.join(dir, 'config-'));
    writeFileSync(
      path.join(configDir, 'default.yaml'),
      `log: {level: info}\nshutdown: {graceMs: 1}\ngrpc: {maxReceiveMessageBytes: 4194304, maxSendMessageBytes: 4194304, healthAddress: "", tls: {caFile: "", certFile: "", keyFile: ""}}\nmetrics: {address: ""}\n`,
    );
    return loadConfig(schema, { service: 'svc', env, configDir, envOverrides: GRPC_TRANSPORT_ENV });
  };

  it('is plaintext with 4 MiB limits when nothing is set, mutual TLS with all three files', () => {
    expect(load({}).grpc).toMatchObject({ maxReceiveMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, maxSendMessageBytes: DEFAULT_MAX_MESSAGE_BYTES });
    expect(createGrpcTransport(load({}).grpc).mode).toBe('plaintext');
    const env = { FREECHAT_TLS_CA_FILE: certs.caFile, FREECHAT_TLS_CERT_FILE: certs.identities['client']!.certFile, FREECHAT_TLS_KEY_FILE: certs.identities['client']!.keyFile };
    expect(createGrpcTransport(load(env).grpc).mode).toBe('mtls');
  });

  it('refuses at start some files but not all, an unreadable file, and a key that is not the certificate’s', () => {
    expect(() => load({ FREECHAT_TLS_CA_FILE: certs.caFile })).toThrow(/grpc\.tls\.certFile: required when caFile is set.*grpc\.tls\.keyFile: required/);
    const missing = path.join(dir, 'nope.crt');
    expect(() =>
      load({ FREECHAT_TLS_CA_FILE: certs.caFile, FREECHAT_TLS_CERT_FILE: missing, FREECHAT_TLS_KEY_FILE: certs.identities['client']!.keyFile }),
    ).toThrow(/grpc\.tls\.certFile: cannot read .*nope\.crt: ENOENT \(from FREECHAT_TLS_CERT_FILE\)/);
    const mismatched = { ...PLAINTEXT_TRANSPORT_CONFIG, tls: { caFile: certs.caFile, certFile: certs.identities['client']!.certFile, keyFile: certs.identities['server']!.keyFile } };
    expect(() => createGrpcTransport(mismatched, 'chat')).toThrow(ConfigError);
    expect(() => createGrpcTransport(mismatched, 'chat')).toThrow(/grpc\.tls: .* not a usable TLS identity/);
  });

  it('never has the key in what is logged', () => {
    const summary = JSON.stringify(createGrpcTransport(tlsOf('client')).summary);
    expect(summary).toContain('mtls');
    expect(summary).not.toMatch(/PRIVATE KEY|client\.key/);
  });

  it('does not let an unreadable key file through (not root only)', () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const key = path.join(dir, 'locked.key');
    writeFileSync(key, 'x');
    chmodSync(key, 0);
    expect(() => load({ FREECHAT_TLS_CA_FILE: certs.caFile, FREECHAT_TLS_CERT_FILE: certs.caFile, FREECHAT_TLS_KEY_FILE: key })).toThrow(/cannot read/);
  });
});

describe('message size limits', () => {
  const limited = (bytes: Partial<GrpcTransportConfig>): GrpcTransportConfig => ({ ...PLAINTEXT_TRANSPORT_CONFIG, ...bytes });

  it('a server refuses a request over its receive limit, and will not send a response over its send limit', async () => {
    const { handle, address } = await startServer(limited({ maxReceiveMessageBytes: 8_192, maxSendMessageBytes: 8_192 }));
    handle.setServing(true);
    const client = providerClient(address, PLAINTEXT_TRANSPORT_CONFIG);
    expect((await call(client, Buffer.alloc(8_000))).length).toBe(8_000);
    await expect(call(client, Buffer.alloc(9_000))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    await expect(call(client, sizeRequest(9_000))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it('a channel from the provider refuses a response over its receive limit and a request over its send limit', async () => {
    const { handle, address } = await startServer(PLAINTEXT_TRANSPORT_CONFIG);
    handle.setServing(true);
    const client = providerClient(address, limited({ maxReceiveMessageBytes: 8_192, maxSendMessageBytes: 8_192 }));
    expect((await call(client, sizeRequest(8_000))).length).toBe(8_000);
    await expect(call(client, sizeRequest(9_000))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    await expect(call(client, Buffer.alloc(9_000))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it('defaults to 4 MiB each way, sending included (grpc-js alone would send any size)', async () => {
    const { handle, address } = await startServer(limited({ maxReceiveMessageBytes: 64 * 1024 * 1024 }));
    handle.setServing(true);
    const client = providerClient(address, limited({ maxReceiveMessageBytes: 64 * 1024 * 1024 }));
    expect((await call(client, sizeRequest(DEFAULT_MAX_MESSAGE_BYTES - 64))).length).toBe(DEFAULT_MAX_MESSAGE_BYTES - 64);
    // The server's default send limit stops a 5 MiB response the client would have taken.
    await expect(call(client, sizeRequest(5 * 1024 * 1024))).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });
});
