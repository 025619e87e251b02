// Sign-in logs (Graph /auditLogs/signIns): newest first, a page at a time, filtered as Entra filters them
// (user, application, status, error code, date range); a row opens its details. A filter value the server
// refuses is shown at its field.
import { useState } from 'react';
import { Button, Field, Input, Link, Select, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title2 } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { GUID, odataString, refusalAt, when } from '../kit/fields';
import { Pager, usePages } from '../kit/paging';
import { RangeFields, type Range, rangeClauses, rangeError, useFilterStyles } from './LogFilters';
import { SignInDetail, StatusBadge } from './SignInDetail';
import type { SignIn } from './types';

const PAGE_SIZE = 20;

interface Filters extends Range {
  user: string;
  app: string;
  status: '' | 'success' | 'failure';
  errorCode: string;
}

const EMPTY: Filters = { user: '', app: '', status: '', errorCode: '', from: '', to: '' };

/** The server's property names for each field, to put its refusals where they belong. */
const FIELD_PROPERTIES = { user: ['userPrincipalName', 'userId'], app: ['appId'], errorCode: ['status/errorCode'], from: ['createdDateTime'] };

export function signInsUrl(f: Filters): string {
  const clauses: string[] = [];
  const user = f.user.trim();
  if (user) clauses.push(GUID.test(user) ? `userId eq ${odataString(user)}` : `startsWith(userPrincipalName,${odataString(user)})`);
  if (f.app.trim()) clauses.push(`appId eq ${odataString(f.app.trim())}`);
  if (f.status) clauses.push(`status/errorCode ${f.status === 'success' ? 'eq' : 'ne'} 0`);
  // sent as a string: the server checks it is an integer and says so
  if (f.errorCode.trim()) clauses.push(`status/errorCode eq ${odataString(f.errorCode.trim())}`);
  clauses.push(...rangeClauses('createdDateTime', f));
  const q = new URLSearchParams({ $top: String(PAGE_SIZE) });
  if (clauses.length) q.set('$filter', clauses.join(' and '));
  return `/v1.0/auditLogs/signIns?${q.toString()}`;
}

export function SignInsPage() {
  const s = useFilterStyles();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [rangeRefusal, setRangeRefusal] = useState<string | undefined>();
  const [selected, setSelected] = useState<SignIn | undefined>();
  const [open, setOpen] = useState(false);
  const { query, pageNumber, prev, next } = usePages<SignIn>('signIns', signInsUrl(applied));
  const refused = query.isError ? refusalAt(query.error, FIELD_PROPERTIES) : { fields: {} as Record<string, string> };
  const errors: Record<string, string> = { ...refused.fields, ...(rangeRefusal ? { to: rangeRefusal } : {}) };
  const set = (patch: Partial<Filters>) => setDraft({ ...draft, ...patch });

  return (
    <section aria-labelledby="signInsTitle">
      <Title2 as="h1" id="signInsTitle">
        Sign-in logs
      </Title2>
      <form
        className={s.form}
        id="signInFilters"
        aria-label="Filter sign-ins"
        onSubmit={(e) => {
          e.preventDefault();
          const bad = rangeError(draft);
          setRangeRefusal(bad);
          if (!bad) setApplied(draft);
        }}
      >
        <Field label="User (UPN starts with, or object ID)" validationMessage={errors.user} validationState={errors.user ? 'error' : 'none'}>
          <Input id="filterUser" value={draft.user} onChange={(_, d) => set({ user: d.value })} />
        </Field>
        <Field label="Application (app ID)" validationMessage={errors.app} validationState={errors.app ? 'error' : 'none'}>
          <Input id="filterApp" value={draft.app} onChange={(_, d) => set({ app: d.value })} />
        </Field>
        <Field label="Status">
          <Select id="filterStatus" value={draft.status} onChange={(_, d) => set({ status: d.value as Filters['status'] })}>
            <option value="">All</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
          </Select>
        </Field>
        <Field label="Sign-in error code" validationMessage={errors.errorCode} validationState={errors.errorCode ? 'error' : 'none'}>
          <Input id="filterErrorCode" value={draft.errorCode} onChange={(_, d) => set({ errorCode: d.value })} />
        </Field>
        <RangeFields idPrefix="filter" value={draft} onChange={(r) => set(r)} errors={errors} />
        <div className={s.buttons}>
          <Button type="submit" appearance="primary" id="applyFilters">
            Apply
          </Button>
          <Button
            id="resetFilters"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
              setRangeRefusal(undefined);
            }}
          >
            Reset
          </Button>
        </div>
      </form>
      {query.isPending && <Spinner label="Loading sign-ins" />}
      {refused.form !== undefined && <ErrorBar error={refused.form} />}
      {query.data && (
        <>
          <Table aria-label="Sign-ins" id="signInsTable" size="small" className={s.table}>
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Date</TableHeaderCell>
                <TableHeaderCell>User</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Application</TableHeaderCell>
                <TableHeaderCell>Status</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>IP address</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {query.data.value.map((r) => (
                <TableRow key={r.id} data-id={r.id} data-upn={r.userPrincipalName ?? ''} data-error-code={r.status.errorCode}>
                  <TableCell>
                    <Link as="button" onClick={() => {
                        setSelected(r);
                        setOpen(true);
                      }} aria-label={`Details of the sign-in at ${when(r.createdDateTime)}`}>
                      {when(r.createdDateTime)}
                    </Link>
                  </TableCell>
                  <TableCell className={s.wrap}>{r.userPrincipalName ?? '—'}</TableCell>
                  <TableCell className={s.wideOnly}>{r.appDisplayName ?? r.appId ?? '—'}</TableCell>
                  <TableCell>
                    <StatusBadge s={r.status} />
                  </TableCell>
                  <TableCell className={s.wideOnly}>{r.ipAddress ?? '—'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {query.data.value.length === 0 && <Text id="noRows">No sign-in matches.</Text>}
          <Pager pageNumber={pageNumber} prev={prev} next={next} />
        </>
      )}
      {selected && <SignInDetail open={open} signIn={selected} onClose={() => setOpen(false)} />}
    </section>
  );
}
