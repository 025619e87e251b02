// The demo relying party: a "portal" page that signs in with Latchkey (code + PKCE, confidential client),
// shows the user and the token claims, and calls the protected demo API.
import type { FastifyInstance } from 'fastify';
import type { Tenant } from '../directory/tenant.js';
import type { Db } from '../storage/db.js';
import { page } from '../signin/html.js';

export interface DemoDeps {
  origin: string;
  tenant: Tenant;
  db: Db;
}

export function registerDemo(app: FastifyInstance, deps: DemoDeps): void {
  app.get('/demo/', (_req, reply) =>
    reply.type('text/html').send(page('Demo portal', `<div class="card"><h1>Demo portal</h1><p>Tenant ${deps.tenant.domain}</p></div>`)),
  );
}
