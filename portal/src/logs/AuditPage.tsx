// Audit logs (Graph /auditLogs/directoryAudits): newest first, a page at a time, filtered as Entra filters
// them (activity, category, initiated by, target, date range); a row opens its details with the targets'
// modified properties. A filter value the server refuses is shown at its field.
import { useState } from 'react';
import { Badge, Button, Field, Input, Link, Select, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title2, mergeClasses } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { GUID, odataString, refusalAt, when } from '../kit/fields';
import { Pager, usePages } from '../kit/paging';
import { AuditDetail, initiator } from './AuditDetail';
import { RangeFields, type Range, rangeClauses, rangeError, useFilterStyles } from './LogFilters';
import type { DirectoryAudit } from './types';

const PAGE_SIZE = 20;

/** The categories Latchkey's admin actions write (Entra's names). */
const CATEGORIES = ['ApplicationManagement', 'GroupManagement', 'Policy', 'RoleManagement', 'UserManagement'];

interface Filters extends Range {
  activity: string;
  category: string;
  initiatedBy: string;
  target: string;
}

const EMPTY: Filters = { activity: '', category: '', initiatedBy: '', target: '', from: '', to: '' };

const FIELD_PROPERTIES = {
  activity: ['activityDisplayName'],
  category: ['category'],
  initiatedBy: ['initiatedBy/user/id', 'initiatedBy/user/userPrincipalName'],
  target: ['targetResources/any(t: t/id)', 'targetResources/any(t: t/userPrincipalName)'],
  from: ['activityDateTime'],
};

export function auditUrl(f: Filters): string {
  const clauses: string[] = [];
  if (f.activity.trim()) clauses.push(`startsWith(activityDisplayName,${odataString(f.activity.trim())})`);
  if (f.category) clauses.push(`category eq ${odataString(f.category)}`);
  const by = f.initiatedBy.trim();
  if (by) clauses.push(GUID.test(by) ? `initiatedBy/user/id eq ${odataString(by)}` : `initiatedBy/user/userPrincipalName eq ${odataString(by)}`);
  const target = f.target.trim();
  if (target) clauses.push(`targetResources/any(t: t/${GUID.test(target) ? 'id' : 'userPrincipalName'} eq ${odataString(target)})`);
  clauses.push(...rangeClauses('activityDateTime', f));
  const q = new URLSearchParams({ $top: String(PAGE_SIZE) });
  if (clauses.length) q.set('$filter', clauses.join(' and '));
  return `/v1.0/auditLogs/directoryAudits?${q.toString()}`;
}

export function AuditPage() {
  const s = useFilterStyles();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [rangeRefusal, setRangeRefusal] = useState<string | undefined>();
  const [selected, setSelected] = useState<DirectoryAudit | undefined>();
  const [open, setOpen] = useState(false);
  const { query, pageNumber, prev, next } = usePages<DirectoryAudit>('audits', auditUrl(applied));
  const refused = query.isError ? refusalAt(query.error, FIELD_PROPERTIES) : { fields: {} as Record<string, string> };
  const errors: Record<string, string> = { ...refused.fields, ...(rangeRefusal ? { to: rangeRefusal } : {}) };
  const set = (patch: Partial<Filters>) => setDraft({ ...draft, ...patch });

  return (
    <section aria-labelledby="auditTitle">
      <Title2 as="h1" id="auditTitle">
        Audit logs
      </Title2>
      <form
        className={s.form}
        id="auditFilters"
        aria-label="Filter audit records"
        onSubmit={(e) => {
          e.preventDefault();
          const bad = rangeError(draft);
          setRangeRefusal(bad);
          if (!bad) setApplied(draft);
        }}
      >
        <Field label="Activity (starts with)" validationMessage={errors.activity} validationState={errors.activity ? 'error' : 'none'}>
          <Input id="filterActivity" value={draft.activity} onChange={(_, d) => set({ activity: d.value })} />
        </Field>
        <Field label="Category" validationMessage={errors.category} validationState={errors.category ? 'error' : 'none'}>
          <Select id="filterCategory" value={draft.category} onChange={(_, d) => set({ category: d.value })}>
            <option value="">All</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Initiated by (UPN or object ID)" validationMessage={errors.initiatedBy} validationState={errors.initiatedBy ? 'error' : 'none'}>
          <Input id="filterInitiatedBy" value={draft.initiatedBy} onChange={(_, d) => set({ initiatedBy: d.value })} />
        </Field>
        <Field label="Target (name, UPN or object ID)" validationMessage={errors.target} validationState={errors.target ? 'error' : 'none'}>
          <Input id="filterTarget" value={draft.target} onChange={(_, d) => set({ target: d.value })} />
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
      {query.isPending && <Spinner label="Loading audit records" />}
      {refused.form !== undefined && <ErrorBar error={refused.form} />}
      {query.data && (
        <>
          <Table aria-label="Audit records" id="auditTable" size="small" className={s.table}>
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Date</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Category</TableHeaderCell>
                <TableHeaderCell>Activity</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Initiated by</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Target</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Result</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {query.data.value.map((r) => (
                <TableRow key={r.id} data-id={r.id} data-activity={r.activityDisplayName}>
                  <TableCell>
                    <Link as="button" onClick={() => {
                        setSelected(r);
                        setOpen(true);
                      }} aria-label={`Details of ${r.activityDisplayName} at ${when(r.activityDateTime)}`}>
                      {when(r.activityDateTime)}
                    </Link>
                  </TableCell>
                  <TableCell className={s.wideOnly}>{r.category}</TableCell>
                  <TableCell>{r.activityDisplayName}</TableCell>
                  <TableCell className={mergeClasses(s.wideOnly, s.wrap)}>{initiator(r)}</TableCell>
                  <TableCell className={mergeClasses(s.wideOnly, s.wrap)}>{r.targetResources.map((t) => t.userPrincipalName ?? t.displayName ?? t.id).join(', ') || '—'}</TableCell>
                  <TableCell className={s.wideOnly}>
                    <Badge appearance="tint" color={r.result === 'success' ? 'success' : 'danger'}>
                      {r.result}
                    </Badge>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {query.data.value.length === 0 && <Text id="noRows">No audit record matches.</Text>}
          <Pager pageNumber={pageNumber} prev={prev} next={next} />
        </>
      )}
      {selected && <AuditDetail open={open} audit={selected} onClose={() => setOpen(false)} />}
    </section>
  );
}
