// Graph query options (src/graph/odata.ts): the $filter parser (valid inputs → AST, invalid → ODataError),
// the Kysely translator against real SQLite and PostgreSQL tables, $select, $top and $skiptoken.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import {
  applyFilter,
  decodeSkipToken,
  encodeSkipToken,
  escapeLike,
  type FieldMap,
  type FilterNode,
  nextLink,
  ODataError,
  type ODataErrorCode,
  parseDateTimeLiteral,
  parseFilter,
  parseSelect,
  parseTop,
} from '../src/graph/odata.js';
import { databases, freshPostgres } from './helpers/server.js';

const fields: FieldMap = {
  id: { column: 'id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  // a pre-lowered column: exact comparisons against a lower-cased literal
  userPrincipalName: { column: 'upn_lower', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], toDb: (v) => String(v).toLowerCase() },
  displayName: { column: 'display_name', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  mail: { column: 'mail', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  employeeId: { column: 'employee_id', type: 'string', ops: ['eq', 'startsWith'] }, // case-sensitive
  accountEnabled: { column: 'account_enabled', type: 'boolean', ops: ['eq', 'ne'] },
  createdDateTime: { column: 'created_at', type: 'datetime', ops: ['eq', 'ne', 'in', 'ge', 'le', 'gt', 'lt'] },
};

const T = (iso: string) => Date.parse(iso);

// ---------------------------------------------------------------------------------------------------
// Parser: valid input → AST

const dn = { property: 'displayName', column: 'display_name', caseInsensitive: true } as const;
const upn = { property: 'userPrincipalName', column: 'upn_lower', caseInsensitive: false } as const;
const mail = { property: 'mail', column: 'mail', caseInsensitive: true } as const;
const enabled = { property: 'accountEnabled', column: 'account_enabled', caseInsensitive: false } as const;
const created = { property: 'createdDateTime', column: 'created_at', caseInsensitive: false } as const;
const id = { property: 'id', column: 'id', caseInsensitive: false } as const;

const VALID: Array<[string, FilterNode]> = [
  ["displayName eq 'Alice'", { kind: 'compare', ...dn, op: 'eq', value: 'Alice' }],
  ["displayName ne 'Alice'", { kind: 'compare', ...dn, op: 'ne', value: 'Alice' }],
  ["DISPLAYNAME EQ 'Alice'", { kind: 'compare', ...dn, op: 'eq', value: 'Alice' }],
  ["  displayName\teq\n'Alice'  ", { kind: 'compare', ...dn, op: 'eq', value: 'Alice' }],
  ["displayName eq 'O''Brien'", { kind: 'compare', ...dn, op: 'eq', value: "O'Brien" }],
  ["displayName eq ''''", { kind: 'compare', ...dn, op: 'eq', value: "'" }],
  ["displayName eq ''", { kind: 'compare', ...dn, op: 'eq', value: '' }],
  ["displayName eq 'a and b or (c)'", { kind: 'compare', ...dn, op: 'eq', value: 'a and b or (c)' }],
  ["userPrincipalName eq 'Alice@Contoso.COM'", { kind: 'compare', ...upn, op: 'eq', value: 'alice@contoso.com' }],
  ['mail eq null', { kind: 'compare', ...mail, op: 'eq', value: null }],
  ['mail ne NULL', { kind: 'compare', ...mail, op: 'ne', value: null }],
  ['accountEnabled eq true', { kind: 'compare', ...enabled, op: 'eq', value: 1 }],
  ['accountEnabled eq False', { kind: 'compare', ...enabled, op: 'eq', value: 0 }],
  ['accountEnabled ne false', { kind: 'compare', ...enabled, op: 'ne', value: 0 }],
  ["startsWith(displayName,'Al')", { kind: 'startsWith', ...dn, value: 'Al' }],
  ["startswith( displayName , 'Al' )", { kind: 'startsWith', ...dn, value: 'Al' }],
  ["STARTSWITH(userPrincipalName,'ALI')", { kind: 'startsWith', ...upn, value: 'ali' }],
  ["startsWith(displayName,'100%_\\')", { kind: 'startsWith', ...dn, value: '100%_\\' }],
  ["displayName in ('a','b', 'O''Brien')", { kind: 'in', ...dn, values: ['a', 'b', "O'Brien"] }],
  ["displayName IN ('a')", { kind: 'in', ...dn, values: ['a'] }],
  ["id eq '0000000A-0000-4000-8000-000000000001'", { kind: 'compare', ...id, op: 'eq', value: '0000000a-0000-4000-8000-000000000001' }],
  ["id in ('00000000-0000-4000-8000-000000000001','00000000-0000-4000-8000-000000000002')", { kind: 'in', ...id, values: ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'] }],
  ['createdDateTime ge 2026-11-25T10:00:00Z', { kind: 'compare', ...created, op: 'ge', value: T('2026-11-25T10:00:00Z') }],
  ['createdDateTime lt 2026-11-25T10:00Z', { kind: 'compare', ...created, op: 'lt', value: T('2026-11-25T10:00:00Z') }],
  ['createdDateTime le 2026-11-25T11:00:00+01:00', { kind: 'compare', ...created, op: 'le', value: T('2026-11-25T10:00:00Z') }],
  ['createdDateTime gt 2026-11-25T10:00:00.1234567Z', { kind: 'compare', ...created, op: 'gt', value: T('2026-11-25T10:00:00.123Z') }],
  // ge/lt with sub-millisecond digits on a whole-millisecond column become gt/le of the truncated time
  ['createdDateTime ge 2026-11-25T10:00:00.1234567Z', { kind: 'compare', ...created, op: 'gt', value: T('2026-11-25T10:00:00.123Z') }],
  ['createdDateTime lt 2026-11-25T10:00:00.0000001Z', { kind: 'compare', ...created, op: 'le', value: T('2026-11-25T10:00:00Z') }],
  ['createdDateTime eq 2026-11-25T10:00:00.0000000Z', { kind: 'compare', ...created, op: 'eq', value: T('2026-11-25T10:00:00Z') }],
  ['createdDateTime eq null', { kind: 'compare', ...created, op: 'eq', value: null }],
  [
    "displayName eq 'a' and mail eq 'b'",
    { kind: 'and', args: [{ kind: 'compare', ...dn, op: 'eq', value: 'a' }, { kind: 'compare', ...mail, op: 'eq', value: 'b' }] },
  ],
  [
    // and binds tighter than or
    "displayName eq 'a' or displayName eq 'b' and mail eq 'c'",
    {
      kind: 'or',
      args: [
        { kind: 'compare', ...dn, op: 'eq', value: 'a' },
        { kind: 'and', args: [{ kind: 'compare', ...dn, op: 'eq', value: 'b' }, { kind: 'compare', ...mail, op: 'eq', value: 'c' }] },
      ],
    },
  ],
  [
    "displayName eq 'a' and displayName eq 'b' or mail eq 'c'",
    {
      kind: 'or',
      args: [
        { kind: 'and', args: [{ kind: 'compare', ...dn, op: 'eq', value: 'a' }, { kind: 'compare', ...dn, op: 'eq', value: 'b' }] },
        { kind: 'compare', ...mail, op: 'eq', value: 'c' },
      ],
    },
  ],
  [
    "(displayName eq 'a' or displayName eq 'b') AND mail eq 'c'",
    {
      kind: 'and',
      args: [
        { kind: 'or', args: [{ kind: 'compare', ...dn, op: 'eq', value: 'a' }, { kind: 'compare', ...dn, op: 'eq', value: 'b' }] },
        { kind: 'compare', ...mail, op: 'eq', value: 'c' },
      ],
    },
  ],
  [
    // n-ary and flattened, including through redundant parentheses
    "displayName eq 'a' and (displayName eq 'b' and displayName eq 'c')",
    {
      kind: 'and',
      args: [
        { kind: 'compare', ...dn, op: 'eq', value: 'a' },
        { kind: 'compare', ...dn, op: 'eq', value: 'b' },
        { kind: 'compare', ...dn, op: 'eq', value: 'c' },
      ],
    },
  ],
  ["((displayName eq 'a'))", { kind: 'compare', ...dn, op: 'eq', value: 'a' }],
  ["not(displayName eq 'a')", { kind: 'not', arg: { kind: 'compare', ...dn, op: 'eq', value: 'a' } }],
  ["NOT startsWith(displayName,'a')", { kind: 'not', arg: { kind: 'startsWith', ...dn, value: 'a' } }],
  [
    // not binds tighter than and
    "not displayName eq 'a' and mail eq 'b'",
    { kind: 'and', args: [{ kind: 'not', arg: { kind: 'compare', ...dn, op: 'eq', value: 'a' } }, { kind: 'compare', ...mail, op: 'eq', value: 'b' }] },
  ],
  [
    "accountEnabled eq true and (startsWith(displayName,'A') or createdDateTime ge 2026-06-01T00:00:00Z)",
    {
      kind: 'and',
      args: [
        { kind: 'compare', ...enabled, op: 'eq', value: 1 },
        { kind: 'or', args: [{ kind: 'startsWith', ...dn, value: 'A' }, { kind: 'compare', ...created, op: 'ge', value: T('2026-06-01T00:00:00Z') }] },
      ],
    },
  ],
];

describe('parseFilter: valid input', () => {
  for (const [text, ast] of VALID) {
    test(JSON.stringify(text), () => assert.deepEqual(parseFilter(text, fields), ast));
  }
  test('50 clauses are accepted', () => {
    const text = Array.from({ length: 50 }, (_, i) => `displayName eq '${i}'`).join(' or ');
    const ast = parseFilter(text, fields);
    assert.equal(ast.kind, 'or');
    assert.equal(ast.kind === 'or' && ast.args.length, 50);
  });
});

// ---------------------------------------------------------------------------------------------------
// Parser: invalid input → ODataError

const INVALID: Array<[string, ODataErrorCode, string]> = [
  ['', 'BadRequest', 'empty'],
  ['   ', 'BadRequest', 'empty'],
  ["foo eq 'x'", 'BadRequest', "property named 'foo'"],
  ["startsWith(foo,'x')", 'BadRequest', "property named 'foo'"],
  ["accountEnabled eq 'true'", 'BadRequest', 'Edm.Boolean'],
  ['accountEnabled eq 1', 'BadRequest', 'the number 1'],
  ['displayName eq true', 'BadRequest', 'the boolean true'],
  ['displayName eq Alice', 'BadRequest', 'single quotes'],
  ['displayName eq "Alice"', 'BadRequest', 'single quotes'],
  ['displayName eq 5', 'BadRequest', 'the number 5'],
  ["createdDateTime ge '2026-11-25T10:00:00Z'", 'BadRequest', 'unquoted'],
  ['createdDateTime ge 2026-11-25', 'BadRequest', "'2026-11-25' is not a valid DateTimeOffset"],
  ['createdDateTime ge 2026-02-30T10:00:00Z', 'BadRequest', 'not a valid DateTimeOffset'],
  ['createdDateTime ge 2026-11-25T25:00:00Z', 'BadRequest', 'not a valid DateTimeOffset'],
  ['createdDateTime ge 2026-11-25T10:00:00', 'BadRequest', 'not a valid DateTimeOffset'],
  ['createdDateTime eq 2026-11-25T10:00:00.0000001Z', 'Request_UnsupportedQuery', 'sub-millisecond'],
  ['createdDateTime gt null', 'BadRequest', "null can only be compared with 'eq' or 'ne'"],
  ["id eq 'not-a-guid'", 'BadRequest', 'not a valid GUID'],
  ["displayName gt 'a'", 'Request_UnsupportedQuery', "operator 'gt' is not supported"],
  ['accountEnabled in (true)', 'Request_UnsupportedQuery', "operator 'in' is not supported"],
  ["startsWith(accountEnabled,'t')", 'Request_UnsupportedQuery', "operator 'startsWith' is not supported"],
  ["startsWith(displayName,'')", 'Request_UnsupportedQuery', 'non-empty prefix'],
  ['startsWith(displayName,Al)', 'BadRequest', 'must be a string literal'],
  ["startsWith(displayName 'Al')", 'BadRequest', "expected ','"],
  ["startsWith(displayName,'Al'", 'BadRequest', 'not closed'],
  ["startsWith('Al',displayName)", 'BadRequest', 'property name as the first argument'],
  ["endsWith(mail,'.com')", 'Request_UnsupportedQuery', "Unsupported function 'endsWith'"],
  ["contains(displayName,'a')", 'Request_UnsupportedQuery', "Unsupported function 'contains'"],
  ["proxyAddresses/any(x:x eq 'smtp:a@b.c')", 'Request_UnsupportedQuery', 'Lambda operators'],
  ["any(x:x eq 'a')", 'Request_UnsupportedQuery', 'Lambda operators'],
  ["manager/displayName eq 'a'", 'Request_UnsupportedQuery', 'Property paths'],
  ["displayName has 'a'", 'Request_UnsupportedQuery', "Unsupported operator 'has'"],
  ["displayName like 'a'", 'BadRequest', "found 'like'"],
  ["displayName eq 'a' garbage", 'BadRequest', "expected 'and', 'or' or end of input but found 'garbage'"],
  ["displayName eq 'a' and", 'BadRequest', 'found end of input'],
  ["displayName eq 'a' or or displayName eq 'b'", 'BadRequest', "property named 'or'"],
  ["displayName eq 'a')", 'BadRequest', "unbalanced parentheses: unexpected ')'"],
  ["(displayName eq 'a'", 'BadRequest', 'is not closed'],
  ["((displayName eq 'a')", 'BadRequest', 'is not closed'],
  ['()', 'BadRequest', "found ')'"],
  ["displayName eq 'unterminated", 'BadRequest', 'unterminated string literal'],
  ["displayName eq 'a''", 'BadRequest', 'unterminated string literal'],
  ['displayName eq', 'BadRequest', 'found end of input'],
  ["displayName in ()", 'BadRequest', "'in' list for property 'displayName' is empty"],
  ["displayName in 'a'", 'BadRequest', "expected '(' after 'displayName in'"],
  ["displayName in ('a' 'b')", 'BadRequest', "expected ',' or ')'"],
  ["displayName in ('a',)", 'BadRequest', "found ')'"],
  ["displayName in ('a'", 'BadRequest', 'not closed'],
  ["displayName in ('a', null)", 'BadRequest', "null is not allowed in the 'in' list"],
  ["not displayName", 'BadRequest', 'expected an operator'],
  ["displayName eq 'a' and 1 eq 1", 'BadRequest', "expected a property name"],
  [Array.from({ length: 51 }, (_, i) => `displayName eq '${i}'`).join(' or '), 'Request_UnsupportedQuery', 'more than 50 clauses'],
  [`displayName in (${Array.from({ length: 51 }, (_, i) => `'${i}'`).join(',')})`, 'Request_UnsupportedQuery', 'more than 50 clauses'],
  [`displayName eq '${'x'.repeat(2000)}'`, 'Request_UnsupportedQuery', 'too long'],
  [`${'('.repeat(40)}displayName eq 'a'${')'.repeat(40)}`, 'Request_UnsupportedQuery', 'nested too deeply'],
  [`${'not '.repeat(40)}displayName eq 'a'`, 'Request_UnsupportedQuery', 'nested too deeply'],
];

describe('parseFilter: invalid input', () => {
  for (const [text, code, fragment] of INVALID) {
    test(JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text), () => {
      assert.throws(
        () => parseFilter(text, fields),
        (err: unknown) => {
          assert.ok(err instanceof ODataError, `not an ODataError: ${String(err)}`);
          assert.equal(err.code, code, err.message);
          assert.ok(err.message.includes(fragment), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
          return true;
        },
      );
    });
  }
  test('the error carries Graph’s body shape', () => {
    const err = (() => {
      try {
        parseFilter("foo eq 'x'", fields);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ODataError);
    assert.deepEqual(JSON.parse(JSON.stringify(err)), { error: { code: 'BadRequest', message: err.message } });
  });
});

describe('literals', () => {
  test('DateTimeOffset literals', () => {
    assert.deepEqual(parseDateTimeLiteral('2026-11-25T10:00:00Z'), { ms: T('2026-11-25T10:00:00Z'), subMs: false });
    assert.deepEqual(parseDateTimeLiteral('2026-11-25T10:00:00.5-02:30'), { ms: T('2026-11-25T12:30:00.500Z'), subMs: false });
    assert.deepEqual(parseDateTimeLiteral('2024-02-29T00:00:00Z'), { ms: T('2024-02-29T00:00:00Z'), subMs: false });
    assert.deepEqual(parseDateTimeLiteral('0050-01-01T00:00:00Z'), { ms: T('0050-01-01T00:00:00Z'), subMs: false }); // not 1950
    assert.equal(parseDateTimeLiteral('2023-02-29T00:00:00Z'), undefined);
    assert.equal(parseDateTimeLiteral('2026-11-25T10:00:00+24:00'), undefined);
    assert.equal(parseDateTimeLiteral('2026-11-25 10:00:00Z'), undefined);
  });
  test('escapeLike', () => assert.equal(escapeLike('100%_a\\b'), '100\\%\\_a\\\\b'));
});

// ---------------------------------------------------------------------------------------------------
// Translator against real databases

interface TestDb {
  users: {
    id: string;
    upn: string;
    upn_lower: string;
    display_name: string;
    mail: string | null;
    employee_id: string | null;
    account_enabled: number;
    created_at: number;
  };
}

const uid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const month = (n: number) => Date.UTC(2026, n - 1, 1);

// [n, upn, displayName, mail, employeeId, enabled]; row n was created on 2026-n-01T00:00:00Z
const ROWS: Array<[number, string, string, string | null, string | null, number]> = [
  [1, 'Alice@contoso.com', 'Alice Adams', 'alice@contoso.com', 'E-100', 1],
  [2, 'bob@contoso.com', "Bob O'Brien", null, 'e-100', 1],
  [3, 'obrien@contoso.com', "O'Brien", 'OBrien@Contoso.com', 'E-200', 0],
  [4, 'pct@contoso.com', '100% Real', 'pct@contoso.com', null, 1],
  [5, 'hundred@contoso.com', '100 Percent', null, null, 1],
  [6, 'under@contoso.com', 'a_b', 'under@fabrikam.com', null, 0],
  [7, 'axb@contoso.com', 'axb', null, null, 1],
  [8, 'back@contoso.com', 'back\\slash', 'back@contoso.com', null, 1],
  [9, 'backs@contoso.com', 'backslash', null, null, 1],
  [10, 'ALICE.UPPER@contoso.com', 'ALICE UPPER', 'ALICE.UPPER@CONTOSO.COM', null, 0],
  [11, 'carol@contoso.com', 'Carol', 'carol@contoso.com', 'X%1', 1],
  [12, 'dave@contoso.com', 'Dave', null, 'X_1', 0],
];

const CASES: Array<[string, number[]]> = [
  ["displayName eq 'Alice Adams'", [1]],
  ["displayName eq 'alice adams'", [1]],
  ["displayName eq 'O''Brien'", [3]],
  ["displayName eq 'bob o''brien'", [2]],
  ["displayName ne 'O''Brien'", [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
  ["startsWith(displayName,'alice')", [1, 10]],
  ["startsWith(displayName,'ALICE ')", [1, 10]],
  ["startsWith(displayName,'O''')", [3]],
  ["startsWith(displayName,'100%')", [4]],
  ["startsWith(displayName,'100')", [4, 5]],
  ["startsWith(displayName,'a_')", [6]],
  ["startsWith(displayName,'a')", [1, 6, 7, 10]],
  ["startsWith(displayName,'back\\')", [8]],
  ["startsWith(displayName,'back\\s')", [8]],
  ["startsWith(displayName,'backs')", [9]],
  ["startsWith(displayName,'%')", []],
  ["startsWith(displayName,'_')", []],
  // the pre-lowered column: literals are lowered by toDb
  ["userPrincipalName eq 'ALICE@CONTOSO.COM'", [1]],
  ["startsWith(userPrincipalName,'Alice')", [1, 10]],
  ["userPrincipalName in ('BOB@contoso.com','dave@CONTOSO.com','nobody@contoso.com')", [2, 12]],
  // case-sensitive column: no case folding, and % _ still literal
  ["employeeId eq 'E-100'", [1]],
  ["startsWith(employeeId,'E-')", [1, 3]],
  ["startsWith(employeeId,'e-')", [2]],
  ["startsWith(employeeId,'X%')", [11]],
  ["startsWith(employeeId,'X_')", [12]],
  ["mail eq 'obrien@contoso.com'", [3]],
  ["mail in ('ALICE@contoso.com','alice.upper@contoso.com')", [1, 10]],
  ["displayName in ('Carol','dave','nobody')", [11, 12]],
  ["id eq '00000000-0000-4000-8000-000000000007'", [7]],
  ["id in ('00000000-0000-4000-8000-000000000007', '00000000-0000-4000-8000-000000000012')", [7, 12]],
  ["id ne '00000000-0000-4000-8000-000000000007' and accountEnabled eq false", [3, 6, 10, 12]],
  ['accountEnabled eq true', [1, 2, 4, 5, 7, 8, 9, 11]],
  ['accountEnabled eq false', [3, 6, 10, 12]],
  ['accountEnabled ne true', [3, 6, 10, 12]],
  // null comparisons (OData: a null mail is ne any value, and never eq one)
  ['mail eq null', [2, 5, 7, 9, 12]],
  ['mail ne null', [1, 3, 4, 6, 8, 10, 11]],
  ["mail ne 'alice@contoso.com'", [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
  ["not(mail eq 'alice@contoso.com')", [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
  ["not(mail ne 'alice@contoso.com')", [1]],
  ['not(mail eq null)', [1, 3, 4, 6, 8, 10, 11]],
  ["not startsWith(mail,'a')", [2, 3, 4, 5, 6, 7, 8, 9, 11, 12]],
  ["not(mail in ('alice@contoso.com','pct@contoso.com'))", [2, 3, 5, 6, 7, 8, 9, 10, 11, 12]],
  ["not(startsWith(displayName,'a') or accountEnabled eq true)", [3, 12]],
  ["not(startsWith(mail,'a') and accountEnabled eq true)", [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],
  ['not(not(mail eq null))', [2, 5, 7, 9, 12]],
  // and binds tighter than or
  ["displayName eq 'Carol' or accountEnabled eq false and startsWith(displayName,'a')", [6, 10, 11]],
  ["(displayName eq 'Carol' or accountEnabled eq false) and startsWith(displayName,'a')", [6, 10]],
  ["accountEnabled eq false and startsWith(displayName,'a') or displayName eq 'Carol'", [6, 10, 11]],
  // date-times (row n created 2026-n-01)
  ['createdDateTime ge 2026-11-01T00:00:00Z', [11, 12]],
  ['createdDateTime gt 2026-11-01T00:00:00Z', [12]],
  ['createdDateTime lt 2026-03-01T00:00:00Z', [1, 2]],
  ['createdDateTime le 2026-03-01T00:00:00Z', [1, 2, 3]],
  ['createdDateTime le 2026-03-01T01:00:00+01:00', [1, 2, 3]],
  ['createdDateTime eq 2026-05-01T00:00:00Z', [5]],
  ['createdDateTime ne 2026-05-01T00:00:00Z', [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]],
  ['createdDateTime in (2026-05-01T00:00:00Z, 2026-07-01T00:00:00.000Z)', [5, 7]],
  ['createdDateTime ge 2026-04-01T00:00:00Z and createdDateTime lt 2026-06-01T00:00:00Z', [4, 5]],
  ['createdDateTime ge 2026-10-31T23:59:59.9999999Z', [11, 12]],
  ['createdDateTime lt 2026-11-01T00:00:00.0000001Z', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
  ['not(createdDateTime ge 2026-11-01T00:00:00Z)', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
];

for (const dbKind of await databases()) {
  describe(`applyFilter (${dbKind})`, () => {
    let db: Kysely<TestDb>;
    let drop: (() => Promise<void>) | undefined;

    before(async () => {
      if (dbKind === 'postgres') {
        const fresh = await freshPostgres();
        drop = fresh.drop;
        db = new Kysely<TestDb>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: fresh.url, max: 2 }) }) });
      } else {
        db = new Kysely<TestDb>({ dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
      }
      await db.schema.createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('upn', 'text', (c) => c.notNull())
        .addColumn('upn_lower', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('mail', 'text')
        .addColumn('employee_id', 'text')
        .addColumn('account_enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', dbKind === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .execute();
      await db.insertInto('users').values(ROWS.map(([n, u, name, m, emp, en]) => ({
        id: uid(n), upn: u, upn_lower: u.toLowerCase(), display_name: name, mail: m, employee_id: emp, account_enabled: en, created_at: month(n),
      }))).execute();
    });

    after(async () => {
      await db?.destroy();
      await drop?.();
    });

    const run = async (filter: string) => {
      const rows = await applyFilter(db.selectFrom('users').select('id'), parseFilter(filter, fields)).orderBy('id').execute();
      return rows.map((r) => Number(r.id.slice(-12)));
    };

    for (const [filter, expected] of CASES) {
      test(filter, async () => assert.deepEqual(await run(filter), expected));
    }

    test('a table-qualified column and a filter combined with other conditions', async () => {
      const qualified: FieldMap = { displayName: { column: 'users.display_name', type: 'string', ops: ['eq'], caseInsensitive: true } };
      const q = db.selectFrom('users').select('users.id').where('account_enabled', '=', 1);
      const rows = await applyFilter(q, parseFilter("displayName eq 'CAROL' or displayName eq 'dave'", qualified)).execute();
      assert.deepEqual(rows.map((r) => r.id), [uid(11)]);
    });

    test('keyset paging with $skiptoken', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      const filter = parseFilter('accountEnabled eq true', fields);
      for (let page = 0; page < 10; page++) {
        let q = applyFilter(db.selectFrom('users').select('id'), filter);
        if (token) {
          const pos = decodeSkipToken(token);
          assert.equal(typeof pos.id, 'string');
          q = q.where('id', '>', pos.id as string);
        }
        const rows = await q.orderBy('id').limit(3 + 1).execute();
        seen.push(...rows.slice(0, 3).map((r) => r.id));
        if (rows.length <= 3) break;
        token = encodeSkipToken({ id: rows[2]!.id });
      }
      assert.deepEqual(seen, [1, 2, 4, 5, 7, 8, 9, 11].map(uid));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// $select, $top, $skiptoken

describe('parseSelect', () => {
  const allowed = ['id', 'displayName', 'userPrincipalName', 'mail', 'accountEnabled'];
  const ok: Array<[string, string[]]> = [
    ['displayName', ['displayName']],
    ['DISPLAYNAME,mail', ['displayName', 'mail']],
    [' mail , id ', ['mail', 'id']],
    ['mail,MAIL,id', ['mail', 'id']],
    ['*', allowed],
  ];
  for (const [text, expected] of ok) test(`valid ${JSON.stringify(text)}`, () => assert.deepEqual(parseSelect(text, allowed), expected));
  const badCases: Array<[string, string]> = [
    ['passwordHash', "property named 'passwordHash'"],
    ['displayName,', 'empty item'],
    ['', 'empty item'],
    ['manager/displayName', 'property paths'],
  ];
  for (const [text, fragment] of badCases) {
    test(`invalid ${JSON.stringify(text)}`, () => assert.throws(() => parseSelect(text, allowed), (e: unknown) => e instanceof ODataError && e.message.includes(fragment)));
  }
});

describe('parseTop', () => {
  test('valid', () => {
    assert.equal(parseTop('1'), 1);
    assert.equal(parseTop('999'), 999);
    assert.equal(parseTop(' 25 '), 25);
    assert.equal(parseTop('100', 100), 100);
  });
  for (const text of ['0', '1000', '-1', '1.5', '1e2', 'abc', '', '0x10', '99999999999999999999']) {
    test(`invalid ${JSON.stringify(text)}`, () =>
      assert.throws(() => parseTop(text), (e: unknown) => e instanceof ODataError && e.code === 'BadRequest' && e.message.includes('Must be between 1 and 999')));
  }
  test('a lower maximum', () => assert.throws(() => parseTop('101', 100), /between 1 and 100/));
});

describe('$skiptoken', () => {
  test('round trip', () => {
    const pos = { id: uid(7), v: 1, name: "O'Brien ünïcødé" };
    const token = encodeSkipToken(pos);
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeSkipToken(token), pos);
  });
  const good = encodeSkipToken({ id: uid(7) });
  const [body, sum] = good.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ id: uid(8) })).toString('base64url');
  const tampered: Array<[string, string]> = [
    ['empty', ''],
    ['no checksum', body],
    ['wrong checksum', `${body}.${sum.slice(0, -1)}${sum.endsWith('A') ? 'B' : 'A'}`],
    ['edited body', `${forged}.${sum}`],
    ['extra part', `${good}.x`],
    ['bad characters', `${body}!.${sum}`],
    ['padding', `${body}=.${sum}`],
    ['not base64 of JSON', `${Buffer.from('nope').toString('base64url')}.${sum}`],
    ['too long', `${'A'.repeat(5000)}.${sum}`],
  ];
  for (const [name, token] of tampered) {
    test(`rejects: ${name}`, () =>
      assert.throws(() => decodeSkipToken(token), (e: unknown) => e instanceof ODataError && e.code === 'BadRequest' && /\$skiptoken/.test(e.message)));
  }
  test('nextLink keeps the other options and replaces $skiptoken', () => {
    const link = nextLink("https://id.example/v1.0/users?$filter=startsWith(displayName,'a')&$top=2&$skiptoken=old", good);
    const u = new URL(link);
    assert.equal(u.searchParams.get('$filter'), "startsWith(displayName,'a')");
    assert.equal(u.searchParams.get('$top'), '2');
    assert.deepEqual(u.searchParams.getAll('$skiptoken'), [good]);
  });
});
