// Groups: search by the start of the name or mail nickname, a page at a time; New group opens its page.
import { useState } from 'react';
import { Button, Input, Link, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { odataString } from '../kit/fields';
import { Pager, usePages } from '../kit/paging';
import { Reason, byRight, useDirectoryRights } from '../kit/rights';
import { navigate } from '../router';
import { GROUP_SELECT, type GraphGroup } from './types';

const PAGE_SIZE = 10;

const useStyles = makeStyles({
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, margin: `${tokens.spacingVerticalM} 0`, flexWrap: 'wrap' },
  searchInput: { flexGrow: 1, minWidth: '200px', maxWidth: '480px' },
  wrap: { overflowWrap: 'anywhere' },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
});

export function groupsUrl(search: string): string {
  const q = new URLSearchParams({ $select: GROUP_SELECT, $top: String(PAGE_SIZE) });
  const s = search.trim();
  if (s) q.set('$filter', `startsWith(displayName,${odataString(s)}) or startsWith(mailNickname,${odataString(s)})`);
  return `/v1.0/groups?${q.toString()}`;
}

export function GroupsPage() {
  const s = useStyles();
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState('');
  const { query, pageNumber, prev, next } = usePages<GraphGroup>('groups', groupsUrl(search));
  const rights = useDirectoryRights();
  const plain = rights('createGroup');
  const roleAssignable = rights('createRoleAssignableGroup');
  // a Privileged Role Administrator creates role-assignable groups only, through the same page
  const create = plain.allowed || !roleAssignable.allowed ? plain : roleAssignable;
  return (
    <section aria-labelledby="groupsTitle">
      <Title2 as="h1" id="groupsTitle">
        Groups
      </Title2>
      <div className={s.bar}>
        <Button appearance="primary" id="newGroup" {...byRight(create, 'newGroupReason')} onClick={() => navigate('/admin/groups/new')}>
          New group
        </Button>
        <Reason id="newGroupReason" right={create} />
      </div>
      <form
        className={s.bar}
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(draft);
        }}
      >
        <Input className={s.searchInput} id="groupSearch" aria-label="Search by name or mail nickname" placeholder="Name or mail nickname starts with…" value={draft} onChange={(_, d) => setDraft(d.value)} />
        <Button type="submit" id="groupSearchButton">
          Search
        </Button>
      </form>
      {query.isPending && <Spinner label="Loading groups" />}
      {query.isError && <ErrorBar error={query.error} />}
      {query.data && (
        <>
          <Table aria-label="Groups" id="groupsTable" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Name</TableHeaderCell>
                <TableHeaderCell>Mail nickname</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Group type</TableHeaderCell>
                <TableHeaderCell className={s.wideOnly}>Role-assignable</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {query.data.value.map((g) => (
                <TableRow key={g.id} data-id={g.id} data-name={g.displayName}>
                  <TableCell className={s.wrap}>
                    <Link
                      href={`/admin/groups/${encodeURIComponent(g.id)}`}
                      onClick={(e) => {
                        e.preventDefault();
                        navigate(`/admin/groups/${encodeURIComponent(g.id)}`);
                      }}
                    >
                      {g.displayName}
                    </Link>
                  </TableCell>
                  <TableCell className={s.wrap}>{g.mailNickname}</TableCell>
                  <TableCell className={s.wideOnly}>{g.securityEnabled ? 'Security' : 'Microsoft 365'}</TableCell>
                  <TableCell className={s.wideOnly}>{g.isAssignableToRole ? 'Yes' : 'No'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {query.data.value.length === 0 && <Text id="noRows">No group matches.</Text>}
          <Pager pageNumber={pageNumber} prev={prev} next={next} />
        </>
      )}
    </section>
  );
}
