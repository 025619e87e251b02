// Refusals of /latchkey/v1 in Graph's error shape: an action's closed set of codes (src/admin/action.ts)
// mapped once to status and Graph code, as the Graph API maps them.
import { ActionError } from '../admin/action.js';
import { GraphError } from '../graph/errors.js';
import { ODataError } from '../graph/odata.js';

const BY_CODE = {
  not_found: [404, 'Request_ResourceNotFound'],
  forbidden: [403, 'Authorization_RequestDenied'],
  stale: [412, 'PreconditionFailed'],
  invalid: [400, 'Request_BadRequest'],
  duplicate: [400, 'Request_MultipleObjectsWithSameKeyValue'],
} as const;

export function apiError(e: unknown): GraphError | undefined {
  if (e instanceof GraphError) return e;
  if (e instanceof ODataError) return new GraphError(400, 'BadRequest', e.message);
  if (e instanceof ActionError) {
    const [status, code] = BY_CODE[e.code];
    return new GraphError(status, code, e.message);
  }
  return undefined;
}
