// Marks a plugin as not encapsulated (what fastify-plugin does), so its decorators and hooks reach
// the whole app. fastify-plugin itself is not a dependency of this package; the symbols are
// fastify's documented contract.
import type { FastifyPluginAsync } from 'fastify';

export function sharedPlugin<Options extends Record<string, unknown>>(name: string, plugin: FastifyPluginAsync<Options>): FastifyPluginAsync<Options> {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
}
