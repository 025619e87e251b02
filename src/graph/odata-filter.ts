// The $filter language of Microsoft Graph for the directory collections: tokenizer, literals and a parser
// to a small AST (odata.ts translates it to SQL). Only the subset Graph documents for users is accepted:
// eq, ne, in, startsWith, the relational operators on date-times, and/or/not with parentheses; anything
// else is refused with Graph's error codes, naming what and where.
// ---------------------------------------------------------------------------------------------------
// Errors

export type ODataErrorCode = 'BadRequest' | 'Request_UnsupportedQuery';

/**
 * A rejected query option. `code` is Graph's error code: `BadRequest` for malformed input (syntax,
 * unknown property, wrong literal type, bad $top or $skiptoken), `Request_UnsupportedQuery` for valid
 * OData that Latchkey (like Graph for this resource) does not support (an operator a property does not
 * allow, lambdas, functions other than startsWith, filters over the size limits).
 */
export class ODataError extends Error {
  readonly code: ODataErrorCode;
  constructor(code: ODataErrorCode, message: string) {
    super(message);
    this.name = 'ODataError';
    this.code = code;
  }
  /** Graph's error body for a 400 response. */
  toJSON(): { error: { code: ODataErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const bad = (message: string) => new ODataError('BadRequest', message);
export const unsupported = (message: string) => new ODataError('Request_UnsupportedQuery', message);

// ---------------------------------------------------------------------------------------------------
// Field maps and the filter AST

export type FilterOp = 'eq' | 'ne' | 'startsWith' | 'in' | 'ge' | 'le' | 'gt' | 'lt';
export type CompareOp = 'eq' | 'ne' | 'ge' | 'le' | 'gt' | 'lt';
export type FieldType = 'string' | 'boolean' | 'datetime' | 'guid';

/** A literal as parsed, before `toDb`: strings (GUIDs lower-cased), booleans, date-times as epoch ms. */
export type FilterLiteral = string | boolean | number;

export interface FieldSpec {
  /** column to compare, optionally table-qualified (`users.display_name`) */
  column: string;
  type: FieldType;
  /** the operators this property supports; any other is refused with Request_UnsupportedQuery */
  ops: ReadonlyArray<FilterOp>;
  /**
   * Compare strings case-insensitively, as Graph does (`lower(column)` against `lower(value)`). Leave
   * it off for a column that already holds a lower-cased copy (such as `upn_lower`) and lower the value
   * with `toDb` instead.
   */
  caseInsensitive?: boolean;
  /**
   * Converts a parsed literal to the value bound in SQL (never called for null). The default is the
   * identity, except for booleans, which become 1/0 (Latchkey stores booleans as integers on both
   * databases). For startsWith it must return a string.
   */
  toDb?: (v: FilterLiteral) => unknown;
}

/** Graph property name (matched case-insensitively; the key's spelling is the canonical name) → field. */
export type FieldMap = Readonly<Record<string, FieldSpec>>;

export interface LeafBase {
  /** canonical property name (the FieldMap key) */
  property: string;
  column: string;
  caseInsensitive: boolean;
}

/**
 * The parsed filter. Leaves carry what the translator needs (column, bound values after `toDb`), so
 * applyFilter does not need the FieldMap. `and`/`or` are n-ary and flattened (`a and b and c` is one
 * node with three args); `value: null` in a compare leaf means `is null` / `is not null`.
 */
export type FilterNode =
  | { kind: 'and'; args: FilterNode[] }
  | { kind: 'or'; args: FilterNode[] }
  | { kind: 'not'; arg: FilterNode }
  | (LeafBase & { kind: 'compare'; op: CompareOp; value: unknown })
  | (LeafBase & { kind: 'in'; values: unknown[] })
  | (LeafBase & { kind: 'startsWith'; value: string });

/** Limits on a $filter: its length in characters, its clauses (comparisons plus `in` values), nesting. */
export const FILTER_LIMITS = { maxLength: 2000, maxClauses: 50, maxDepth: 32 } as const;

// ---------------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { t: 'lparen' | 'rparen' | 'comma'; pos: number }
  | { t: 'string'; value: string; pos: number }
  /** any other run of characters up to whitespace, a parenthesis, a comma or a quote */
  | { t: 'word'; value: string; pos: number }
  | { t: 'end'; pos: number };

const WORD_BREAK = /[\s(),']/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(') {
      tokens.push({ t: 'lparen', pos: i++ });
    } else if (c === ')') {
      tokens.push({ t: 'rparen', pos: i++ });
    } else if (c === ',') {
      tokens.push({ t: 'comma', pos: i++ });
    } else if (c === "'") {
      const start = i++;
      let value = '';
      for (;;) {
        if (i >= text.length) throw bad(`Invalid filter clause: unterminated string literal starting at position ${start + 1}.`);
        const ch = text[i]!;
        if (ch === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      tokens.push({ t: 'string', value, pos: start });
    } else {
      const start = i;
      while (i < text.length && !WORD_BREAK.test(text[i]!)) i++;
      tokens.push({ t: 'word', value: text.slice(start, i), pos: start });
    }
  }
  tokens.push({ t: 'end', pos: text.length });
  return tokens;
}

function describe(tok: Token): string {
  switch (tok.t) {
    case 'lparen': return "'('";
    case 'rparen': return "')'";
    case 'comma': return "','";
    case 'string': return `string literal '${tok.value.replaceAll("'", "''")}'`;
    case 'word': return `'${tok.value}'`;
    case 'end': return 'end of input';
  }
}

// ---------------------------------------------------------------------------------------------------
// Literals

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|[+-]\d{2}:\d{2})$/i;

/** An OData DateTimeOffset literal → epoch ms (the fraction truncated) and whether it had sub-ms digits. */
export function parseDateTimeLiteral(text: string): { ms: number; subMs: boolean } | undefined {
  const m = DATETIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const frac = m[7] ?? '';
  const fracMs = Number(frac.padEnd(3, '0').slice(0, 3));
  const subMs = /[1-9]/.test(frac.slice(3));
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, fracMs);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined; // 2026-02-30
  let offsetMin = 0;
  const tz = m[8]!;
  if (tz.toUpperCase() !== 'Z') {
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return { ms: date.getTime() - offsetMin * 60_000, subMs };
}

const EDM: Record<FieldType, string> = { string: 'Edm.String', boolean: 'Edm.Boolean', datetime: 'Edm.DateTimeOffset', guid: 'Edm.Guid' };

// ---------------------------------------------------------------------------------------------------
// Parser

const RELATIONAL = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

type Lit = { kind: 'null' } | { kind: 'value'; value: FilterLiteral; subMs?: boolean };

class Parser {
  private i = 0;
  private clauses = 0;
  private depth = 0;
  private readonly byLower = new Map<string, [string, FieldSpec]>();

  constructor(private readonly tokens: Token[], fields: FieldMap) {
    for (const [name, spec] of Object.entries(fields)) this.byLower.set(name.toLowerCase(), [name, spec]);
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    const tok = this.tokens[this.i]!;
    if (tok.t !== 'end') this.i++;
    return tok;
  }
  private syntax(tok: Token, expected: string): ODataError {
    return bad(`Invalid filter clause: syntax error at position ${tok.pos + 1}: expected ${expected} but found ${describe(tok)}.`);
  }
  private expect(t: 'lparen' | 'rparen' | 'comma', expected: string): void {
    const tok = this.next();
    if (tok.t !== t) throw this.syntax(tok, expected);
  }
  private isKeyword(tok: Token, kw: string): boolean {
    return tok.t === 'word' && tok.value.toLowerCase() === kw;
  }
  private countClause(n = 1): void {
    this.clauses += n;
    if (this.clauses > FILTER_LIMITS.maxClauses) throw unsupported(`The $filter is too complex: it has more than ${FILTER_LIMITS.maxClauses} clauses.`);
  }
  private enter(tok: Token): void {
    if (++this.depth > FILTER_LIMITS.maxDepth) throw unsupported(`The $filter is nested too deeply (more than ${FILTER_LIMITS.maxDepth} levels) at position ${tok.pos + 1}.`);
  }

  parse(): FilterNode {
    if (this.peek().t === 'end') throw bad('Invalid filter clause: the $filter is empty.');
    const node = this.orExpr();
    const tok = this.peek();
    if (tok.t !== 'end') {
      if (tok.t === 'rparen') throw bad(`Invalid filter clause: unbalanced parentheses: unexpected ')' at position ${tok.pos + 1}.`);
      throw this.syntax(tok, "'and', 'or' or end of input");
    }
    return node;
  }

  private orExpr(): FilterNode {
    const args = [this.andExpr()];
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      args.push(this.andExpr());
    }
    return args.length === 1 ? args[0]! : { kind: 'or', args: args.flatMap((a) => (a.kind === 'or' ? a.args : [a])) };
  }

  private andExpr(): FilterNode {
    const args = [this.unary()];
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      args.push(this.unary());
    }
    return args.length === 1 ? args[0]! : { kind: 'and', args: args.flatMap((a) => (a.kind === 'and' ? a.args : [a])) };
  }

  private unary(): FilterNode {
    const tok = this.peek();
    // `not` is a prefix operator: `not(expr)`, `not (expr)`, `not startsWith(...)`.
    if (this.isKeyword(tok, 'not')) {
      this.next();
      this.enter(tok);
      const arg = this.unary();
      this.depth--;
      return { kind: 'not', arg };
    }
    return this.primary();
  }

  private primary(): FilterNode {
    const tok = this.next();
    if (tok.t === 'lparen') {
      this.enter(tok);
      const node = this.orExpr();
      const close = this.next();
      if (close.t !== 'rparen') {
        if (close.t === 'end') throw bad(`Invalid filter clause: unbalanced parentheses: '(' at position ${tok.pos + 1} is not closed.`);
        throw this.syntax(close, "')'");
      }
      this.depth--;
      return node;
    }
    if (tok.t !== 'word') throw this.syntax(tok, 'a property name, a function, \'not\' or \'(\'');
    if (tok.value.includes('/')) {
      if (/\/(any|all)$/i.test(tok.value)) throw unsupported(`Lambda operators (any, all) are not supported in this $filter ('${tok.value}' at position ${tok.pos + 1}).`);
      throw unsupported(`Property paths are not supported in this $filter ('${tok.value}' at position ${tok.pos + 1}).`);
    }
    if (!IDENT.test(tok.value)) throw this.syntax(tok, 'a property name, a function, \'not\' or \'(\'');
    if (this.peek().t === 'lparen') return this.func(tok.value, tok);
    return this.comparison(tok.value, tok);
  }

  private field(name: string, tok: Token): [string, FieldSpec] {
    const f = this.byLower.get(name.toLowerCase());
    if (!f) throw bad(`Could not find a property named '${name}' (position ${tok.pos + 1}); filterable properties: ${[...this.byLower.values()].map(([n]) => n).join(', ')}.`);
    return f;
  }

  private requireOp(name: string, spec: FieldSpec, op: FilterOp): void {
    if (!spec.ops.includes(op)) {
      throw unsupported(`Unsupported or invalid query filter clause specified for property '${name}': operator '${op}' is not supported${spec.ops.length ? ` (supported: ${spec.ops.join(', ')})` : ''}.`);
    }
  }

  private leaf(name: string, spec: FieldSpec): LeafBase {
    return { property: name, column: spec.column, caseInsensitive: spec.type === 'string' && spec.caseInsensitive === true };
  }

  private func(fname: string, nameTok: Token): FilterNode {
    if (fname.toLowerCase() !== 'startswith') {
      if (['any', 'all'].includes(fname.toLowerCase())) throw unsupported(`Lambda operators (any, all) are not supported in this $filter (position ${nameTok.pos + 1}).`);
      throw unsupported(`Unsupported function '${fname}' in $filter (position ${nameTok.pos + 1}); the only supported function is startsWith.`);
    }
    this.expect('lparen', "'('");
    const propTok = this.next();
    if (propTok.t !== 'word' || !IDENT.test(propTok.value)) throw this.syntax(propTok, 'a property name as the first argument of startsWith');
    const [name, spec] = this.field(propTok.value, propTok);
    this.requireOp(name, spec, 'startsWith');
    if (spec.type !== 'string') throw unsupported(`startsWith is not supported on property '${name}' of type ${EDM[spec.type]}.`);
    this.expect('comma', "',' after the property name in startsWith");
    const litTok = this.next();
    if (litTok.t !== 'string') throw bad(`Invalid filter clause: the second argument of startsWith(${name}, ...) must be a string literal, found ${describe(litTok)} at position ${litTok.pos + 1}.`);
    const close = this.next();
    if (close.t !== 'rparen') {
      if (close.t === 'end') throw bad(`Invalid filter clause: unbalanced parentheses: startsWith( at position ${nameTok.pos + 1} is not closed.`);
      throw this.syntax(close, "')' after the arguments of startsWith");
    }
    if (litTok.value === '') throw unsupported(`Unsupported or invalid query filter clause specified for property '${name}': startsWith needs a non-empty prefix.`);
    this.countClause();
    const v = spec.toDb ? spec.toDb(litTok.value) : litTok.value;
    if (typeof v !== 'string') throw new TypeError(`toDb for '${name}' must return a string for startsWith`);
    return { kind: 'startsWith', ...this.leaf(name, spec), value: v };
  }

  private comparison(propName: string, propTok: Token): FilterNode {
    const [name, spec] = this.field(propName, propTok);
    const opTok = this.next();
    if (opTok.t !== 'word') throw this.syntax(opTok, `an operator after '${propName}'`);
    const op = opTok.value.toLowerCase();
    if (op === 'in') return this.inList(name, spec);
    if (!RELATIONAL.has(op)) {
      if (['has', 'add', 'sub', 'mul', 'div', 'mod'].includes(op)) throw unsupported(`Unsupported operator '${opTok.value}' in $filter (position ${opTok.pos + 1}).`);
      throw this.syntax(opTok, "an operator ('eq', 'ne', 'in', 'gt', 'ge', 'lt', 'le')");
    }
    const cop = op as CompareOp;
    this.requireOp(name, spec, cop);
    const litTok = this.next();
    const lit = this.literal(litTok, name, spec, cop);
    this.countClause();
    const base = this.leaf(name, spec);
    if (lit.kind === 'null') {
      if (cop !== 'eq' && cop !== 'ne') throw bad(`Invalid filter clause: null can only be compared with 'eq' or 'ne' (property '${name}', operator '${cop}').`);
      return { kind: 'compare', ...base, op: cop, value: null };
    }
    let finalOp = cop;
    if (lit.subMs) {
      // The columns hold whole milliseconds: v >= t.5 is v > t, v < t.5 is v <= t (t truncated).
      if (cop === 'ge') finalOp = 'gt';
      else if (cop === 'lt') finalOp = 'le';
      else if (cop === 'eq' || cop === 'ne') throw unsupported(`Date-times with sub-millisecond precision cannot be compared with '${cop}' (property '${name}'); use ge/le.`);
    }
    return { kind: 'compare', ...base, op: finalOp, value: this.toDb(spec, lit.value) };
  }

  private inList(name: string, spec: FieldSpec): FilterNode {
    this.requireOp(name, spec, 'in');
    const open = this.next();
    if (open.t !== 'lparen') throw this.syntax(open, `'(' after '${name} in'`);
    const values: unknown[] = [];
    for (;;) {
      const litTok = this.next();
      if (litTok.t === 'rparen' && values.length === 0) throw bad(`Invalid filter clause: the 'in' list for property '${name}' is empty.`);
      const lit = this.literal(litTok, name, spec, 'in');
      if (lit.kind === 'null') throw bad(`Invalid filter clause: null is not allowed in the 'in' list for property '${name}'; use '${name} eq null'.`);
      if (lit.subMs) throw unsupported(`Date-times with sub-millisecond precision cannot be used with 'in' (property '${name}').`);
      this.countClause();
      values.push(this.toDb(spec, lit.value));
      const sep = this.next();
      if (sep.t === 'rparen') break;
      if (sep.t === 'end') throw bad(`Invalid filter clause: unbalanced parentheses: the 'in' list for property '${name}' is not closed.`);
      if (sep.t !== 'comma') throw this.syntax(sep, "',' or ')' in the 'in' list");
    }
    return { kind: 'in', ...this.leaf(name, spec), values };
  }

  private toDb(spec: FieldSpec, v: FilterLiteral): unknown {
    if (spec.toDb) return spec.toDb(v);
    if (spec.type === 'boolean') return v ? 1 : 0;
    return v;
  }

  private literal(tok: Token, name: string, spec: FieldSpec, op: string): Lit {
    const mismatch = (found: string) =>
      bad(`Invalid filter clause: property '${name}' is of type ${EDM[spec.type]} but the value for '${op}' at position ${tok.pos + 1} is ${found}.`);
    if (tok.t === 'word' && tok.value.toLowerCase() === 'null') return { kind: 'null' };
    switch (spec.type) {
      case 'string':
        if (tok.t === 'string') return { kind: 'value', value: tok.value };
        break;
      case 'guid':
        if (tok.t === 'string') {
          if (!GUID.test(tok.value)) throw bad(`Invalid filter clause: '${tok.value}' is not a valid GUID for property '${name}' (position ${tok.pos + 1}).`);
          return { kind: 'value', value: tok.value.toLowerCase() };
        }
        break;
      case 'boolean':
        if (tok.t === 'word') {
          const w = tok.value.toLowerCase();
          if (w === 'true' || w === 'false') return { kind: 'value', value: w === 'true' };
        }
        break;
      case 'datetime':
        if (tok.t === 'word') {
          const dt = parseDateTimeLiteral(tok.value);
          if (dt) return { kind: 'value', value: dt.ms, subMs: dt.subMs };
          if (/^\d{4}-/.test(tok.value)) {
            throw bad(`Invalid filter clause: '${tok.value}' is not a valid DateTimeOffset for property '${name}' (position ${tok.pos + 1}); write it unquoted like 2026-11-25T10:00:00Z.`);
          }
        }
        if (tok.t === 'string') {
          throw mismatch(`a string literal; write date-times unquoted like 2026-11-25T10:00:00Z`);
        }
        break;
    }
    if (tok.t === 'string') throw mismatch('a string literal');
    if (tok.t !== 'word') throw this.syntax(tok, `a value for '${name} ${op}'`);
    const w = tok.value.toLowerCase();
    if (w === 'true' || w === 'false') throw mismatch(`the boolean ${w}`);
    if (/^[+-]?\d+(\.\d+)?$/.test(tok.value)) throw mismatch(`the number ${tok.value}`);
    if (parseDateTimeLiteral(tok.value)) throw mismatch(`the date-time ${tok.value}`);
    if (spec.type === 'string' || spec.type === 'guid') throw mismatch(`${describe(tok)}; string values must be in single quotes`);
    throw mismatch(describe(tok));
  }
}

/**
 * Parses a Graph `$filter` against the properties in `fields`. Throws ODataError for anything outside
 * the supported subset. Property names, operators, function names and keywords are case-insensitive.
 */
export function parseFilter(text: string, fields: FieldMap): FilterNode {
  if (text.length > FILTER_LIMITS.maxLength) throw unsupported(`The $filter is too long: ${text.length} characters, at most ${FILTER_LIMITS.maxLength} are supported.`);
  return new Parser(tokenize(text), fields).parse();
}
