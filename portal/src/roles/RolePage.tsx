// A directory role: its description and its assignments (users and apps' service principals) a page at
// a time, with Add assignment (a user picked by search) and Remove. The server decides who may assign
// roles and keeps the tenant's last enabled Global Administrator; its refusals are shown as worded.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Link, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title2, Title3, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { ConfirmDialog } from '../kit/ConfirmDialog';
import { Pager, usePages } from '../kit/paging';
import { Properties } from '../kit/Properties';
import { Reason, byRight, useDirectoryRight } from '../kit/rights';
import { UserPicker } from '../kit/UserPicker';
import { navigate } from '../router';
import type { RoleDefinition } from './RolesPage';

interface Member {
  '@odata.type'?: string;
  id: string;
  displayName: string;
  userPrincipalName?: string;
  appId?: string;
}

const useStyles = makeStyles({
  back: { display: 'inline-block', marginBottom: tokens.spacingVerticalS },
  title: { display: 'block' },
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', margin: `${tokens.spacingVerticalM} 0` },
  h: { display: 'block', marginTop: tokens.spacingVerticalXL },
  wrap: { overflowWrap: 'anywhere' },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
  remove: { width: '100px' },
});

const isApp = (m: Member) => m['@odata.type'] === '#microsoft.graph.servicePrincipal';

export function RolePage({ id }: { id: string }) {
  const s = useStyles();
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Member | undefined>();
  const role = useQuery({ queryKey: ['roleDefinition', id], queryFn: () => call<RoleDefinition>(`/v1.0/roleManagement/directory/roleDefinitions/${encodeURIComponent(id)}`) });
  const path = `/v1.0/directoryRoles/${encodeURIComponent(id)}/members`;
  const members = usePages<Member>(`roleMembers-${id}`, `${path}?$top=10`);
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: [`roleMembers-${id}`] }), queryClient.invalidateQueries({ queryKey: ['roleAssignments'] })]);
  const r = role.data;
  const mayAssign = useDirectoryRight('assignDirectoryRoles');

  return (
    <section aria-labelledby="roleTitle">
      <Link
        className={s.back}
        href="/admin/roles"
        onClick={(e) => {
          e.preventDefault();
          navigate('/admin/roles');
        }}
      >
        ← All roles
      </Link>
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
          <Title3 as="h2" className={s.h} id="assignmentsTitle">
            Assignments
          </Title3>
          <div className={s.bar}>
            <Button appearance="primary" id="addAssignment" {...byRight(mayAssign, 'assignReason')} onClick={() => setAdding(true)}>
              Add assignment
            </Button>
            <Reason id="assignReason" right={mayAssign} />
          </div>
          {members.query.isError && <ErrorBar error={members.query.error} />}
          {members.query.data && (
            <>
              <Table aria-labelledby="assignmentsTitle" id="assignmentsTable" size="small">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Name</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>User principal name or app ID</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>Type</TableHeaderCell>
                    <TableHeaderCell className={s.remove}>
                      <span className={s.wideOnly}>Action</span>
                    </TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {members.query.data.value.map((m) => (
                    <TableRow key={m.id} data-id={m.id} data-upn={m.userPrincipalName ?? ''}>
                      <TableCell className={s.wrap}>{m.displayName}</TableCell>
                      <TableCell className={mergeClasses(s.wrap, s.wideOnly)}>{m.userPrincipalName ?? m.appId}</TableCell>
                      <TableCell className={s.wideOnly}>{isApp(m) ? 'Service principal' : 'User'}</TableCell>
                      <TableCell className={s.remove}>
                        <Button size="small" aria-label={`Remove ${m.displayName}`} className="removeAssignment" {...byRight(mayAssign, 'assignReason')} onClick={() => setRemoving(m)}>
                          Remove
                        </Button>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
              {members.query.data.value.length === 0 && <Text id="noAssignments">No one holds this role.</Text>}
              <Pager idPrefix="assignments-" pageNumber={members.pageNumber} prev={members.prev} next={members.next} />
            </>
          )}
        </>
      )}
      {adding && r && (
        <UserPicker
          title={`Assign ${r.displayName}`}
          onAdd={(u) => call(`${path}/$ref`, { method: 'POST', body: { '@odata.id': `${location.origin}/v1.0/directoryObjects/${u.id}` } })}
          onClose={(added) => {
            setAdding(false);
            if (added) void refresh();
          }}
        />
      )}
      {removing && r && (
        <ConfirmDialog
          title="Remove assignment"
          confirmLabel="Remove"
          onConfirm={() => call(`${path}/${encodeURIComponent(removing.id)}/$ref`, { method: 'DELETE' })}
          onClose={(done) => {
            setRemoving(undefined);
            if (done) void refresh();
          }}
        >
          Remove the {r.displayName} role from {removing.displayName}
          {removing.userPrincipalName ? ` (${removing.userPrincipalName})` : ''}?
        </ConfirmDialog>
      )}
    </section>
  );
}
