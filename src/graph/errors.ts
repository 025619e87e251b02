// Graph's error shape: {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}.
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export type GraphErrorCode =
  | 'BadRequest'
  | 'Request_BadRequest'
  | 'invalidRequest'
  | 'Request_UnsupportedQuery'
  | 'InvalidAuthenticationToken'
  | 'Authorization_RequestDenied'
  | 'Request_ResourceNotFound'
  | 'ResourceNotFound'
  | 'Request_MultipleObjectsWithSameKeyValue'
  | 'PreconditionFailed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'MethodNotAllowed'
  | 'generalException';

export class GraphError extends Error {
  override name = 'GraphError';
  constructor(
    readonly status: number,
    readonly code: GraphErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function sendGraphError(req: FastifyRequest, reply: FastifyReply, status: number, code: GraphErrorCode, message: string) {
  const clientRequestId = req.headers['client-request-id'];
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send({
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ''),
          'request-id': crypto.randomUUID(),
          'client-request-id': typeof clientRequestId === 'string' ? clientRequestId.slice(0, 64) : crypto.randomUUID(),
        },
      },
    });
}
