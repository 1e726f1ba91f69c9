// How every internal gRPC connection is made: mutual TLS from three configured PEM files (or
// plaintext when none is set), and explicit message size limits on both ends. One `grpc` section
// in every service's configuration; createGrpcServer and the channel provider both take the result.
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import type { DeepReadonly } from './config.js';
import { ConfigError } from './errors.js';

/** 4 MiB: grpc-js's own receive default, made explicit and applied to sending too. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const TLS_KEYS = ['caFile', 'certFile', 'keyFile'] as const;

const tlsSchema = z
  .strictObject({
    /** PEM bundle of the CA(s) that sign every Free Chat service's certificate. */
    caFile: z.string(),
    /** PEM certificate this service presents, as a server and as a client. */
    certFile: z.string(),
    keyFile: z.string(),
    /**
     * The name every server certificate is verified against, instead of the host dialled. Empty:
     * the host dialled. For callers that dial instances by IP (Kubernetes pods found in Consul):
     * the operator puts one shared name in every certificate it issues and sets it here.
     */
    serverName: z.string().optional(),
  })
  .superRefine((tls, context) => {
    const set = TLS_KEYS.filter((key) => tls[key] !== '');
    if (set.length !== 0 && set.length !== TLS_KEYS.length) {
      for (const key of TLS_KEYS.filter((k) => tls[k] === '')) {
        context.addIssue({ code: 'custom', path: [key], message: `required when ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set: mutual TLS needs all three files, or none for plaintext` });
      }
      return;
    }
    for (const key of set) {
      try {
        accessSync(tls[key], constants.R_OK);
      } catch (error) {
        context.addIssue({ code: 'custom', path: [key], message: `cannot read ${tls[key]}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
      }
    }
  });

const messageBytes = z.coerce.number().int().min(1024, 'at least 1024 bytes');

export const grpcTransportConfig = {
  grpc: z.strictObject({
    maxReceiveMessageBytes: messageBytes,
    maxSendMessageBytes: messageBytes,
    tls: tlsSchema,
    /** host:port of the plain HTTP readiness endpoint; empty: with mTLS, the listen host on a free port. */
    healthAddress: z.union([z.literal(''), z.string().regex(/^.+:\d+$/, 'expected host:port')]),
  }),
};

export type GrpcTransportConfig = DeepReadonly<z.output<(typeof grpcTransportConfig)['grpc']>>;

export const GRPC_TRANSPORT_ENV = {
  FREECHAT_TLS_CA_FILE: 'grpc.tls.caFile',
  FREECHAT_TLS_CERT_FILE: 'grpc.tls.certFile',
  FREECHAT_TLS_KEY_FILE: 'grpc.tls.keyFile',
  FREECHAT_TLS_SERVER_NAME: 'grpc.tls.serverName',
  FREECHAT_GRPC_MAX_RECEIVE_MESSAGE_BYTES: 'grpc.maxReceiveMessageBytes',
  FREECHAT_GRPC_MAX_SEND_MESSAGE_BYTES: 'grpc.maxSendMessageBytes',
  FREECHAT_GRPC_HEALTH_ADDRESS: 'grpc.healthAddress',
} as const;

export interface GrpcTransport {
  readonly mode: 'mtls' | 'plaintext';
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** Configured readiness endpoint address, '' for the default (see grpcTransportConfig). */
  readonly healthAddress: string;
  /** With mTLS, clients without a certificate from the CA are refused during the handshake. */
  serverCredentials(): grpc.ServerCredentials;
  /** With mTLS, presents this service's certificate and verifies the server's against the CA. */
  channelCredentials(): grpc.ChannelCredentials;
  readonly serverOptions: grpc.ServerOptions;
  readonly channelOptions: grpc.ChannelOptions;
  /** For the start-up log line: mode, limits and file paths (never the key's contents). */
  readonly summary: Readonly<Record<string, unknown>>;
}

export const PLAINTEXT_TRANSPORT_CONFIG: GrpcTransportConfig = Object.freeze({
  maxReceiveMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxSendMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  tls: Object.freeze({ caFile: '', certFile: '', keyFile: '' }),
  healthAddress: '',
});

/**
 * Reads the PEM files once and checks that they form a usable TLS identity; throws ConfigError
 * naming `grpc.tls.*` otherwise. Plaintext when no file is configured.
 */
export function createGrpcTransport(config: GrpcTransportConfig = PLAINTEXT_TRANSPORT_CONFIG, service = 'grpc'): GrpcTransport {
  const limits = {
    'grpc.max_receive_message_length': config.maxReceiveMessageBytes,
    'grpc.max_send_message_length': config.maxSendMessageBytes,
  };
  const base = {
    maxReceiveMessageBytes: config.maxReceiveMessageBytes,
    maxSendMessageBytes: config.maxSendMessageBytes,
    healthAddress: config.healthAddress,
    serverOptions: limits,
    channelOptions: limits,
  };
  const set = TLS_KEYS.filter((key) => config.tls[key] !== '');
  if (set.length === 0) {
    return {
      ...base,
      mode: 'plaintext',
      serverCredentials: () => grpc.ServerCredentials.createInsecure(),
      channelCredentials: () => grpc.credentials.createInsecure(),
      summary: { grpcTransport: 'plaintext', maxReceiveMessageBytes: base.maxReceiveMessageBytes, maxSendMessageBytes: base.maxSendMessageBytes },
    };
  }
  if (set.length !== TLS_KEYS.length) {
    throw new ConfigError(service, TLS_KEYS.filter((k) => config.tls[k] === '').map((k) => ({ path: `grpc.tls.${k}`, message: 'required: mutual TLS needs caFile, certFile and keyFile' })));
  }
  const read = (key: (typeof TLS_KEYS)[number]): Buffer => {
    try {
      return readFileSync(config.tls[key]);
    } catch (error) {
      throw new ConfigError(service, [{ path: `grpc.tls.${key}`, message: `cannot read ${config.tls[key]}: ${(error as Error).message}` }]);
    }
  };
  const [ca, cert, key] = [read('caFile'), read('certFile'), read('keyFile')];
  try {
    // Fails here, at start, on a malformed file or a key that is not the certificate's.
    createSecureContext({ ca, cert, key });
  } catch (error) {
    throw new ConfigError(service, [
      { path: 'grpc.tls', message: `${config.tls.certFile} / ${config.tls.keyFile} / ${config.tls.caFile} are not a usable TLS identity: ${(error as Error).message}` },
    ]);
  }
  // grpc-js checks the server's certificate against this name and sends it as SNI and :authority.
  const serverName = config.tls.serverName ? { 'grpc.ssl_target_name_override': config.tls.serverName, 'grpc.default_authority': config.tls.serverName } : {};
  return {
    ...base,
    channelOptions: { ...limits, ...serverName },
    mode: 'mtls',
    serverCredentials: () => grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true),
    channelCredentials: () => grpc.credentials.createSsl(ca, key, cert),
    summary: {
      grpcTransport: 'mtls',
      caFile: path.resolve(config.tls.caFile),
      certFile: path.resolve(config.tls.certFile),
      ...(config.tls.serverName && { serverName: config.tls.serverName }),
      maxReceiveMessageBytes: base.maxReceiveMessageBytes,
      maxSendMessageBytes: base.maxSendMessageBytes,
    },
  };
}
