// JSON request bodies with a member name given twice in one object are refused, on every route that takes
// application/json (Graph at /v1.0 and /beta, /latchkey/v1, and any page or endpoint that posts JSON).
// JSON.parse keeps the last of two equal names, so `{"dryRun":true,"dryRun":false}` would run an admin
// action that its sender may have meant as a preview; RFC 8259 §4 leaves such a text's meaning open, and
// OData's JSON format (Graph's) calls it invalid. Equal means equal once decoded: `{"a":1,"\u0061":2}` is
// refused. The same name in two different objects, and a string value spelled like a name, are not.
//
// The body must be UTF-8 (RFC 8259 §8.1: another charset or bytes that are not UTF-8 are refused, not read
// with U+FFFD in their place); it is then parsed by Fastify's own JSON parser (validity, empty body,
// `__proto__` refused as before, each with its usual error); only a valid text is scanned, once, left to right.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GraphError } from '../graph/errors.js';

/**
 * A JSON body refused before any handler (a name given twice, not UTF-8): a Graph `BadRequest` (the Graph
 * and /latchkey/v1 scopes' error handlers send a GraphError as is) with `statusCode` 400, which the
 * application's error handler answers in the endpoint's wire format.
 */
export class JsonBodyError extends GraphError {
  readonly statusCode = 400;
  constructor(message: string) {
    super(400, 'BadRequest', message);
  }
}

/** The refusal of a member name given twice, naming it (bounded). */
function duplicateMember(name: string): JsonBodyError {
  return new JsonBodyError(`The property '${name.length > 64 ? `${name.slice(0, 64)}…` : name}' appears more than once in the request body.`);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * The first member name that appears twice in one object of `text`, decoded, or undefined when there is
 * none. `text` must be valid JSON (the scan relies on it: a string right after `{` or after `,` inside an
 * object is a name, any other string is a value). Linear in the length of `text`.
 */
export function duplicateMemberName(text: string): string | undefined {
  // one entry per open object ({ names seen, whether the next string is a name }) or array (null)
  const stack: ({ names: Set<string>; nameNext: boolean } | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) stack.push({ names: new Set(), nameNext: true });
    else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) top.nameNext = true;
    } else if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c /* \ */) {
          escaped = true;
          i++;
        }
      }
      const top = stack[stack.length - 1];
      if (top?.nameNext) {
        top.nameNext = false;
        const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (top.names.has(name)) return name;
        top.names.add(name);
      }
    }
  }
  return undefined;
}

/**
 * Replaces the application's application/json parser (inherited by every scope registered after) with
 * Fastify's default one followed by the duplicate-name check: a refused body reaches no handler.
 */
export function refuseDuplicateMembers(app: FastifyInstance): void {
  // 'error', 'error': Fastify's defaults for `__proto__` and `constructor.prototype`, which this server keeps
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    // JSON is UTF-8 (RFC 8259 §8.1): another charset, or bytes that are not UTF-8, are refused rather than
    // read with U+FFFD in place of what was sent (and stored so)
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(req.headers['content-type'] ?? ''))?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return done(new JsonBodyError(`The request body's charset '${charset.slice(0, 32)}' is not supported: send JSON as UTF-8.`), undefined);
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      return done(new JsonBodyError('The request body is not valid UTF-8.'), undefined);
    }
    void parseJson(req, text, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      const duplicate = text.includes('{') ? duplicateMemberName(text) : undefined;
      if (duplicate !== undefined) return done(duplicateMember(duplicate), undefined);
      done(null, value);
    });
  });
}
