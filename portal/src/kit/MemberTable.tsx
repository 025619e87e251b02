// The directory objects a group or a role holds (a group's members, a role's assignments), a page at a
// time, with Add (a user picked by search, UserPicker) and Remove on each row (asked first, ConfirmDialog).
// Both buttons follow one right, its reason shown beside Add; the server still decides each change and its
// refusal is shown in the dialog that made it.
import type { ReactNode } from 'react';
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { GraphUser } from '../api';
import { ErrorBar } from '../ErrorBar';
import { ConfirmDialog } from './ConfirmDialog';
import { Pager, usePages } from './paging';
import { Reason, type Right, byRight } from './rights';
import { UserPicker } from './UserPicker';

const useStyles = makeStyles({
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', margin: `${tokens.spacingVerticalM} 0` },
  h: { display: 'block', marginTop: tokens.spacingVerticalXL },
  wrap: { overflowWrap: 'anywhere' },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
  remove: { width: '100px' },
  // the Action column's heading is not shown on a phone, but screen readers still hear it
  hiddenOnNarrow: {
    '@media (max-width: 600px)': { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clipPath: 'inset(50%)', whiteSpace: 'nowrap' },
  },
});

export interface Held {
  id: string;
  displayName: string;
  userPrincipalName?: string;
}

export interface MemberTableProps<M extends Held> {
  /** The section's heading and its id (the table is labelled by it). */
  title: string;
  titleId: string;
  tableId: string;
  /** The prefix of the pager's ids. */
  pagerPrefix: string;
  /** The list's query key and its first page's URL. */
  listKey: string;
  listUrl: string;
  /** The columns after Name, each shown on a wide screen only. */
  columns: { header: string; cell: (m: M) => ReactNode; wrap?: boolean }[];
  /** Whether the caller may add and remove, and the id of the reason when not. */
  may: Right;
  reasonId: string;
  add: { id: string; label: string; pickerTitle: string; onAdd: (u: GraphUser) => Promise<unknown> };
  remove: { className: string; title: string; question: (m: M) => ReactNode; onRemove: (m: M) => Promise<unknown> };
  empty: { id: string; text: string };
  /** Other queries a change makes stale (the list itself is read again anyway). */
  alsoStale?: string[][];
}

export function MemberTable<M extends Held>(p: MemberTableProps<M>) {
  const s = useStyles();
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<M | undefined>();
  const members = usePages<M>(p.listKey, p.listUrl);
  const refresh = () => Promise.all([[p.listKey], ...(p.alsoStale ?? [])].map((queryKey) => queryClient.invalidateQueries({ queryKey })));
  return (
    <>
      <Title3 as="h2" className={s.h} id={p.titleId}>
        {p.title}
      </Title3>
      <div className={s.bar}>
        <Button appearance="primary" id={p.add.id} {...byRight(p.may, p.reasonId)} onClick={() => setAdding(true)}>
          {p.add.label}
        </Button>
        <Reason id={p.reasonId} right={p.may} />
      </div>
      {members.query.isError && <ErrorBar error={members.query.error} />}
      {members.query.data && (
        <>
          <Table aria-labelledby={p.titleId} id={p.tableId} size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Name</TableHeaderCell>
                {p.columns.map((c) => (
                  <TableHeaderCell key={c.header} className={s.wideOnly}>
                    {c.header}
                  </TableHeaderCell>
                ))}
                <TableHeaderCell className={s.remove}>
                  <span className={s.hiddenOnNarrow}>Action</span>
                </TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {members.query.data.value.map((m) => (
                <TableRow key={m.id} data-id={m.id} data-upn={m.userPrincipalName ?? ''}>
                  <TableCell className={s.wrap}>{m.displayName}</TableCell>
                  {p.columns.map((c) => (
                    <TableCell key={c.header} className={mergeClasses(c.wrap && s.wrap, s.wideOnly)}>
                      {c.cell(m)}
                    </TableCell>
                  ))}
                  <TableCell className={s.remove}>
                    <Button size="small" aria-label={`Remove ${m.displayName}`} className={p.remove.className} {...byRight(p.may, p.reasonId)} onClick={() => setRemoving(m)}>
                      Remove
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {members.query.data.value.length === 0 && <Text id={p.empty.id}>{p.empty.text}</Text>}
          <Pager idPrefix={p.pagerPrefix} pageNumber={members.pageNumber} prev={members.prev} next={members.next} />
        </>
      )}
      {adding && (
        <UserPicker
          title={p.add.pickerTitle}
          onAdd={p.add.onAdd}
          onClose={(added) => {
            setAdding(false);
            if (added) void refresh();
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          title={p.remove.title}
          confirmLabel="Remove"
          onConfirm={() => p.remove.onRemove(removing)}
          onClose={(done) => {
            setRemoving(undefined);
            if (done) void refresh();
          }}
        >
          {p.remove.question(removing)}
        </ConfirmDialog>
      )}
    </>
  );
}
