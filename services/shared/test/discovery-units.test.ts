import { describe, expect, it } from 'vitest';
import { advertisedHost, pickInstance, registrationRequest, toInstances, type InstanceLoad } from '../src/index.js';

const load = (id: string, outstanding = 0, failing = false): InstanceLoad => ({ id, outstanding, failing });

describe('pickInstance', () => {
  it('has nothing to pick from an empty list', () => {
    expect(pickInstance('round-robin', [], 0)).toBeUndefined();
    expect(pickInstance('least-outstanding', [], 7)).toBeUndefined();
  });

  it('round robin takes turns, whatever the load', () => {
    const instances = [load('a', 5), load('b', 0), load('c', 9)];
    expect([0, 1, 2, 3, 4].map((turn) => pickInstance('round-robin', instances, turn))).toEqual([0, 1, 2, 0, 1]);
  });

  it('least-outstanding sends to the least busy instance', () => {
    expect(pickInstance('least-outstanding', [load('a', 3), load('b', 1), load('c', 2)], 0)).toBe(1);
    expect(pickInstance('least-outstanding', [load('a', 3), load('b', 1), load('c', 0)], 1)).toBe(2);
  });

  it('least-outstanding spreads calls over equally loaded instances instead of piling onto the first', () => {
    const instances = [load('a', 2), load('b', 2), load('c', 2)];
    const picks = [0, 1, 2].map((turn) => pickInstance('least-outstanding', instances, turn));
    expect(new Set(picks)).toEqual(new Set([0, 1, 2]));
  });

  it('avoids an instance whose connection is failing while another one is usable', () => {
    const instances = [load('a', 0, true), load('b', 10)];
    for (const turn of [0, 1, 2, 3]) {
      expect(pickInstance('least-outstanding', instances, turn)).toBe(1);
      expect(pickInstance('round-robin', instances, turn)).toBe(1);
    }
  });

  it('still picks when every instance is failing, so the caller gets the transport error', () => {
    expect(pickInstance('round-robin', [load('a', 0, true), load('b', 0, true)], 1)).toBe(1);
    expect(pickInstance('least-outstanding', [load('a', 4, true), load('b', 1, true)], 0)).toBe(1);
  });

  it('takes turns with a negative turn count too', () => {
    expect(pickInstance('round-robin', [load('a'), load('b')], -1)).toBe(1);
  });
});

describe('toInstances', () => {
  it("uses the service's address, else the node's, and brackets IPv6 hosts", () => {
    expect(
      toInstances([
        { Node: { Address: '10.0.0.1' }, Service: { ID: 'a', Address: '10.0.0.9', Port: 50053 } },
        { Node: { Address: '10.0.0.2' }, Service: { ID: 'b', Address: '', Port: 50054 } },
        { Node: { Address: '10.0.0.3' }, Service: { ID: 'c', Address: 'fd00::1', Port: 1 } },
      ]),
    ).toEqual([
      { id: 'a', address: '10.0.0.9:50053' },
      { id: 'b', address: '10.0.0.2:50054' },
      { id: 'c', address: '[fd00::1]:1' },
    ]);
  });
});

describe('registrationRequest', () => {
  const base = { host: '10.1.2.3', port: 50053, checkIntervalMs: 2_000, deregisterCriticalAfterMs: 60_000, version: '1.2.3' } as const;

  it('names the instance after service, host and port, with the version in meta and a gRPC health check', () => {
    expect(registrationRequest({ ...base, service: 'inference', check: { kind: 'grpc' }, tags: ['grpc', 'built-in'] })).toEqual({
      id: 'freechat-inference-10.1.2.3-50053',
      name: 'freechat-inference',
      address: '10.1.2.3',
      port: 50053,
      tags: ['grpc', 'built-in'],
      meta: { version: '1.2.3' },
      check: {
        name: 'freechat-inference health',
        grpc: '10.1.2.3:50053',
        grpcusetls: false,
        interval: '2000ms',
        timeout: '2000ms',
        deregistercriticalserviceafter: '60000ms',
      },
    });
  });

  it('checks the gateway over HTTP', () => {
    const request = registrationRequest({ ...base, service: 'gateway', port: 3000, check: { kind: 'http', path: '/healthz' } });
    expect(request.check).toMatchObject({ http: 'http://10.1.2.3:3000/healthz', interval: '2000ms' });
    expect(request.check).not.toHaveProperty('grpc');
  });
});

describe('advertisedHost', () => {
  it('prefers the configured host, then the listen host, and never advertises a wildcard', () => {
    expect(advertisedHost('0.0.0.0', 'chat.internal', () => 'pod-1')).toBe('chat.internal');
    expect(advertisedHost('127.0.0.1', '', () => 'pod-1')).toBe('127.0.0.1');
    expect(advertisedHost('0.0.0.0', '', () => 'pod-1')).toBe('pod-1');
    expect(advertisedHost('::', '', () => 'pod-1')).toBe('pod-1');
    expect(advertisedHost('[fd00::1]', '', () => 'pod-1')).toBe('fd00::1');
  });
});
