// Users: search by the start of the name or user principal name (Graph $filter startsWith), filter by the
// account's state (accountEnabled), a page at a time ($top, then @odata.nextLink; earlier pages are
// remembered to go back).
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  Badge,
  Button,
  Field,
  Input,
  Link,
  Select,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { type AccountFilter, type UserPage, call, sameOriginPath, usersUrl } from './api';
import { ErrorBar } from './ErrorBar';
import { navigate } from './router';

export const PAGE_SIZE = 10;

const useStyles = makeStyles({
  search: { display: 'flex', gap: tokens.spacingHorizontalS, margin: `${tokens.spacingVerticalM} 0`, flexWrap: 'wrap' },
  searchInput: { flexGrow: 1, minWidth: '200px', maxWidth: '480px' },
  pager: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, marginTop: tokens.spacingVerticalM },
  upn: { overflowWrap: 'anywhere' },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
});

export function UsersPage() {
  const s = useStyles();
  const [draft, setDraft] = useState('');
  const [account, setAccount] = useState<AccountFilter>('all');
  // the pages seen so far: [first page URL, second page URL (a nextLink), ...]
  const [pages, setPages] = useState<string[]>([usersUrl('', PAGE_SIZE)]);
  const current = pages[pages.length - 1]!;
  const q = useQuery({ queryKey: ['users', current], queryFn: () => call<UserPage>(current) });
  const next = q.data?.['@odata.nextLink'];

  return (
    <section aria-labelledby="usersTitle">
      <Title2 as="h1" id="usersTitle">
        Users
      </Title2>
      <form
        className={s.search}
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPages([usersUrl(draft, PAGE_SIZE, account)]);
        }}
      >
        <Input className={s.searchInput} id="userSearch" aria-label="Search by name or user principal name" placeholder="Name or UPN starts with…" value={draft} onChange={(_, d) => setDraft(d.value)} />
        <Field label="Account" orientation="horizontal">
          <Select
            id="accountFilter"
            value={account}
            onChange={(_, d) => {
              const v = d.value as AccountFilter;
              setAccount(v);
              setPages([usersUrl(draft, PAGE_SIZE, v)]);
            }}
          >
            <option value="all">All</option>
            <option value="enabled">Enabled</option>
            <option value="disabled">Disabled</option>
          </Select>
        </Field>
        <Button type="submit" appearance="primary" id="searchButton">
          Search
        </Button>
      </form>
      {q.isPending && <Spinner label="Loading users" />}
      {q.isError && <ErrorBar error={q.error} />}
      {q.data && (
        <>
          <Table aria-label="Users" id="usersTable" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Display name</TableHeaderCell>
                <TableHeaderCell>User principal name</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Account</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {q.data.value.map((u) => (
                <TableRow key={u.id} data-upn={u.userPrincipalName}>
                  <TableCell>
                    <Link
                      href={`/admin/users/${encodeURIComponent(u.id)}`}
                      onClick={(e) => {
                        e.preventDefault();
                        navigate(`/admin/users/${encodeURIComponent(u.id)}`);
                      }}
                    >
                      {u.displayName}
                    </Link>
                  </TableCell>
                  <TableCell className={s.upn}>{u.userPrincipalName}</TableCell>
                  <TableCell className={s.wideOnly}>{u.accountEnabled ? <Badge appearance="tint" color="success">Enabled</Badge> : <Badge appearance="tint" color="danger">Disabled</Badge>}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {q.data.value.length === 0 && <Text>No user matches.</Text>}
          <div className={s.pager}>
            <Button id="prevPage" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>
              Previous
            </Button>
            <Text id="pageNumber">Page {pages.length}</Text>
            <Button id="nextPage" disabled={!next} onClick={() => next && setPages([...pages, sameOriginPath(next)])}>
              Next
            </Button>
          </div>
        </>
      )}
    </section>
  );
}
