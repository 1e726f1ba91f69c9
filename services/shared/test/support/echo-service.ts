// A one-method gRPC service on raw bytes, for tests of the server and transport mechanics that
// need some service to call.
import type * as grpc from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

export const ECHO_SERVICE_NAME = 'test.v1.Echo';

export const echoService: grpc.ServiceDefinition = {
  echo: {
    path: `/${ECHO_SERVICE_NAME}/Echo`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
