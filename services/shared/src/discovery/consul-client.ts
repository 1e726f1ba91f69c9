// A client of Consul's HTTP API from the address operators know (CONSUL_HTTP_ADDR's forms).
import Consul from 'consul';

/** `host:port`, `http://host:port` or `https://host:port`; the port defaults to 8500. */
export function createConsulClient(address: string): Consul {
  const url = new URL(/^https?:\/\//.test(address) ? address : `http://${address}`);
  const secure = url.protocol === 'https:';
  return new Consul({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 8500, secure });
}
