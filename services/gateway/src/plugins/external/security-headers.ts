// Security headers on every response through @fastify/helmet. The Content-Security-Policy allows
// only this origin's own files: the built web UI is external scripts and stylesheets (Vite), its
// inline styles are set through the DOM's style property (not governed by CSP), and rendered
// Markdown carries no style attributes. Nothing may frame the UI; MIME types are not sniffed.
import fastifyHelmet from '@fastify/helmet';
import type { FastifyPluginAsync } from 'fastify';
import { sharedPlugin } from '../shared-plugin.js';

/** The policy, as directives helmet joins. Exported for tests and the README. */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

const securityHeaders: FastifyPluginAsync = async (app) => {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      // No upgrade-insecure-requests: a self-hosted gateway is often reached over plain HTTP on a LAN.
      directives: Object.fromEntries(Object.entries(CONTENT_SECURITY_POLICY).map(([name, values]) => [name, [...values]])),
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only means something over TLS, which a reverse proxy in front of the gateway terminates.
    strictTransportSecurity: false,
  });
};

export default sharedPlugin('security-headers', securityHeaders);
