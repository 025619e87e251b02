// A directory role: its description and its assignments (users and apps' service principals) a page at
// a time, with Add assignment (a user picked by search) and Remove. The server decides who may assign
// roles and keeps the tenant's last enabled Global Administrator; its refusals are shown as worded.
import { useQuery } from '@tanstack/react-query';
import { Spinner, Title2, makeStyles } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { MemberTable } from '../kit/MemberTable';
import { Properties } from '../kit/Properties';
import { useDirectoryRight } from '../kit/rights';
import type { RoleDefinition } from './RolesPage';
import { BackLink } from '../kit/BackLink';

interface Member {
  '@odata.type'?: string;
  id: string;
  displayName: string;
  userPrincipalName?: string;
  appId?: string;
}

const useStyles = makeStyles({
  title: { display: 'block' },
});

const isApp = (m: Member) => m['@odata.type'] === '#microsoft.graph.servicePrincipal';

export function RolePage({ id }: { id: string }) {
  const s = useStyles();
  const role = useQuery({ queryKey: ['roleDefinition', id], queryFn: () => call<RoleDefinition>(`/v1.0/roleManagement/directory/roleDefinitions/${encodeURIComponent(id)}`) });
  const path = `/v1.0/directoryRoles/${encodeURIComponent(id)}/members`;
  const r = role.data;
  const mayAssign = useDirectoryRight('assignDirectoryRoles');

  return (
    <section aria-labelledby="roleTitle">
      <BackLink to="/admin/roles">All roles</BackLink>
      {role.isPending && <Spinner label="Loading the role" />}
      {role.isError && <ErrorBar error={role.error} />}
      {r && (
        <>
          <Title2 as="h1" id="roleTitle" className={s.title}>
            {r.displayName}
          </Title2>
          <Properties
            id="roleProperties"
            rows={[
              ['Description', r.description],
              ['Template ID', r.templateId],
              ['Type', 'Built-in role'],
            ]}
          />
          <MemberTable<Member>
            title="Assignments"
            titleId="assignmentsTitle"
            tableId="assignmentsTable"
            pagerPrefix="assignments-"
            listKey={`roleMembers-${id}`}
            listUrl={`${path}?$top=10`}
            columns={[
              { header: 'User principal name or app ID', cell: (m) => m.userPrincipalName ?? m.appId, wrap: true },
              { header: 'Type', cell: (m) => (isApp(m) ? 'Service principal' : 'User') },
            ]}
            may={mayAssign}
            reasonId="assignReason"
            add={{
              id: 'addAssignment',
              label: 'Add assignment',
              pickerTitle: `Assign ${r.displayName}`,
              onAdd: (u) => call(`${path}/$ref`, { method: 'POST', body: { '@odata.id': `${location.origin}/v1.0/directoryObjects/${u.id}` } }),
            }}
            remove={{
              className: 'removeAssignment',
              title: 'Remove assignment',
              question: (m) => `Remove the ${r.displayName} role from ${m.displayName}${m.userPrincipalName ? ` (${m.userPrincipalName})` : ''}?`,
              onRemove: (m) => call(`${path}/${encodeURIComponent(m.id)}/$ref`, { method: 'DELETE' }),
            }}
            empty={{ id: 'noAssignments', text: 'No one holds this role.' }}
            alsoStale={[['roleAssignments']]}
          />
        </>
      )}
    </section>
  );
}
