// Roles and administrators: the directory's built-in roles (Graph roleDefinitions) with how many
// principals hold each (roleAssignments, every page read); a role opens its assignments.
import { useQuery } from '@tanstack/react-query';
import { Link, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Title2, makeStyles } from '@fluentui/react-components';
import { call, sameOriginPath } from '../api';
import { ErrorBar } from '../ErrorBar';
import type { GraphList } from '../kit/paging';
import { navigate } from '../router';

export interface RoleDefinition {
  id: string;
  displayName: string;
  description: string | null;
  templateId: string;
}

const useStyles = makeStyles({
  wrap: { overflowWrap: 'anywhere' },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
  count: { width: '110px' },
});

/** Every role assignment's role id, all pages followed. */
async function assignedRoleIds(): Promise<string[]> {
  const out: string[] = [];
  let url: string | undefined = '/v1.0/roleManagement/directory/roleAssignments?$top=999';
  while (url) {
    const page: GraphList<{ roleDefinitionId: string }> = await call<GraphList<{ roleDefinitionId: string }>>(url);
    out.push(...page.value.map((a) => a.roleDefinitionId));
    const next: string | undefined = page['@odata.nextLink'];
    url = next ? sameOriginPath(next) : undefined;
  }
  return out;
}

export function RolesPage() {
  const s = useStyles();
  const roles = useQuery({ queryKey: ['roleDefinitions'], queryFn: () => call<GraphList<RoleDefinition>>('/v1.0/roleManagement/directory/roleDefinitions') });
  const counts = useQuery({
    queryKey: ['roleAssignments'],
    queryFn: async () => {
      const m = new Map<string, number>();
      for (const id of await assignedRoleIds()) m.set(id, (m.get(id) ?? 0) + 1);
      return m;
    },
  });
  return (
    <section aria-labelledby="rolesTitle">
      <Title2 as="h1" id="rolesTitle">
        Roles and administrators
      </Title2>
      {roles.isPending && <Spinner label="Loading roles" />}
      {roles.isError && <ErrorBar error={roles.error} />}
      {counts.isError && <ErrorBar error={counts.error} />}
      {roles.data && (
        <Table aria-label="Roles" id="rolesTable" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Role</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>Description</TableHeaderCell>
              <TableHeaderCell className={s.count}>Assignments</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {roles.data.value.map((r) => (
              <TableRow key={r.id} data-id={r.id} data-name={r.displayName}>
                <TableCell className={s.wrap}>
                  <Link
                    href={`/admin/roles/${encodeURIComponent(r.id)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(`/admin/roles/${encodeURIComponent(r.id)}`);
                    }}
                  >
                    {r.displayName}
                  </Link>
                </TableCell>
                <TableCell className={s.wideOnly}>{r.description}</TableCell>
                <TableCell className={s.count} data-count={counts.data?.get(r.id) ?? ''}>
                  {counts.data ? (counts.data.get(r.id) ?? 0) : '…'}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}
