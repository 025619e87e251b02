// /latchkey/v1/users/{id}/sessions and /grants (spec D25): the user's live browser sessions and
// refresh-token grants, paged by keyset (created time, id) with `@odata.nextLink`; ending one is the
// endSession / endGrant action (POST .../actions/endSession, .../actions/endGrant).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ActionContext } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import { sessionsAndApps } from '../admin/sessions-and-apps.js';
import { authenticate } from '../graph/auth.js';
import { GraphError } from '../graph/errors.js';
import type { GraphDeps } from '../graph/index.js';
import { decodeSkipToken, encodeSkipToken, parseTop } from '../graph/odata.js';
import { API_PREFIX, checkQuery } from './routes.js';

const DEFAULT_TOP = 50;
const MAX_TOP = 500;

export function registerSessionRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const ctx: ActionContext = { db, secrets: deps.secrets, tenantId: tenant.id, config: deps.config };
  const guarded = (handler: (req: FastifyRequest, reply: FastifyReply, actor: Actor) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => handler(req, reply, await authenticate(req, db, deps.verify));

  for (const list of ['sessions', 'grants'] as const) {
    scope.get(`/users/:id/${list}`, guarded(async (req, reply, actor) => {
      const q = checkQuery(req, ['$top', '$skiptoken']);
      const top = q.$top !== undefined ? parseTop(q.$top, MAX_TOP) : DEFAULT_TOP;
      let after: { c: string; i: string } | undefined;
      if (q.$skiptoken !== undefined) {
        const t = decodeSkipToken(q.$skiptoken);
        if (typeof t.c !== 'string' || typeof t.i !== 'string') throw new GraphError(400, 'BadRequest', 'The $skiptoken is not valid.');
        after = { c: t.c, i: t.i };
      }
      const id = (req.params as { id?: string }).id ?? '';
      if (!id || id.length > 256 || id.includes('\0')) throw new GraphError(400, 'BadRequest', 'Invalid user id.');
      const all = await sessionsAndApps(ctx, actor, id, { grants: list === 'grants' });
      const items: { createdDateTime: string; id: string }[] = all[list];
      const rest = after ? items.filter((x) => x.createdDateTime > after.c || (x.createdDateTime === after.c && x.id > after.i)) : items;
      const page = rest.slice(0, top);
      const last = page.at(-1);
      const next = rest.length > top && last ? `${deps.origin}${API_PREFIX}/users/${encodeURIComponent(all.target.id)}/${list}?$top=${top}&$skiptoken=${encodeSkipToken({ c: last.createdDateTime, i: last.id })}` : undefined;
      return reply.send({ target: all.target, value: page, ...(next ? { '@odata.nextLink': next } : {}) });
    }));
  }
}
