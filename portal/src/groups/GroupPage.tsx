// A group: its properties with Edit (name and description, EditGroupDialog.tsx), Delete, and its members
// a page at a time, with Add member (a user picked by search) and Remove. Every change is the server's to
// allow; a refusal is shown with its message.
import { useEffect, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, MessageBar, MessageBarBody, Spinner, Text, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { type GraphUser, call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { when } from '../kit/fields';
import { MemberTable } from '../kit/MemberTable';
import { Properties } from '../kit/Properties';
import { Reason, type Right, byRight, useDirectoryRights } from '../kit/rights';
import { navigate } from '../router';
import { EditGroupDialog } from './EditGroupDialog';
import { GROUP_SELECT, type GraphGroup } from './types';
import { BackLink } from '../kit/BackLink';

const useStyles = makeStyles({
  title: { display: 'block' },
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', margin: `${tokens.spacingVerticalM} 0` },
  status: { alignSelf: 'center' },
  // each refused button's reason on a line of its own, under the buttons
  reasons: { display: 'grid', rowGap: tokens.spacingVerticalXS },
});

export function GroupPage({ id }: { id: string }) {
  const s = useStyles();
  const [deleting, setDeleting] = useState(false);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const group = useQuery({ queryKey: ['group', id], queryFn: () => call<GraphGroup>(`/v1.0/groups/${encodeURIComponent(id)}?$select=${GROUP_SELECT}`) });
  const g = group.data;
  const rights = useDirectoryRights();
  const mayUpdate = rights(g?.isAssignableToRole ? 'updateRoleAssignableGroup' : 'updateGroup');
  const mayDelete = rights(g?.isAssignableToRole ? 'deleteRoleAssignableGroup' : 'deleteGroup');

  return (
    <section aria-labelledby="groupTitle">
      <BackLink to="/admin/groups">All groups</BackLink>
      {group.isPending && <Spinner label="Loading the group" />}
      {group.isError && <ErrorBar error={group.error} />}
      {g && (
        <>
          <Title2 as="h1" id="groupTitle" className={s.title}>
            {g.displayName}
          </Title2>
          <Properties
            id="groupProperties"
            rows={[
              ['Object ID', g.id],
              ['Mail nickname', g.mailNickname],
              ['Description', g.description, 'groupDescriptionValue'],
              ['Group type', g.securityEnabled ? 'Security' : 'Microsoft 365'],
              ['Microsoft Entra roles can be assigned', g.isAssignableToRole ? 'Yes' : 'No'],
              ['Created', when(g.createdDateTime)],
            ]}
          />
          <div className={s.bar}>
            <Button
              id="editGroup"
              appearance="primary"
              onClick={() => {
                setSaved(false);
                setEditing(true);
              }}
              {...byRight(mayUpdate, 'updateGroupReason')}
            >
              Edit properties
            </Button>
            <Button id="deleteGroup" onClick={() => setDeleting(true)} {...byRight(mayDelete, 'deleteGroupReason')} disabled={deleting || !mayDelete.allowed}>
              Delete group
            </Button>
            {saved && (
              <Text id="groupSaved" role="status" className={s.status}>
                Saved.
              </Text>
            )}
          </div>
          {(mayUpdate.reason || mayDelete.reason) && (
            <div className={s.reasons}>
              <Reason id="updateGroupReason" right={mayUpdate} />
              <Reason id="deleteGroupReason" right={mayDelete} />
            </div>
          )}
          {deleting && <DeleteGroup group={g} onCancel={() => setDeleting(false)} />}
          <GroupMembers group={g} may={rights(g.isAssignableToRole ? 'changeRoleAssignableGroupMembers' : 'changeGroupMembers')} />
        </>
      )}
      {editing && g && (
        <EditGroupDialog
          group={g}
          onClose={(done) => {
            setEditing(false);
            setSaved(done);
          }}
        />
      )}
    </section>
  );
}

/** The group's members a page at a time, with Add member (a user picked by search) and Remove. */
function GroupMembers({ group: g, may }: { group: GraphGroup; may: Right }) {
  const path = `/v1.0/groups/${encodeURIComponent(g.id)}`;
  return (
    <MemberTable<GraphUser>
      title="Members"
      titleId="membersTitle"
      tableId="membersTable"
      pagerPrefix="members-"
      listKey={`members-${g.id}`}
      listUrl={`${path}/members?$select=id,displayName,userPrincipalName,mail&$top=10`}
      columns={[{ header: 'User principal name', cell: (u) => u.userPrincipalName, wrap: true }]}
      may={may}
      reasonId="membersReason"
      add={{
        id: 'addMember',
        label: 'Add member',
        pickerTitle: `Add a member to ${g.displayName}`,
        onAdd: (u) => call(`${path}/members/$ref`, { method: 'POST', body: { '@odata.id': `${location.origin}/v1.0/directoryObjects/${u.id}` } }),
      }}
      remove={{
        className: 'removeMember',
        title: 'Remove member',
        question: (u) => `Remove ${u.displayName} (${u.userPrincipalName}) from ${g.displayName}?`,
        onRemove: (u) => call(`${path}/members/${encodeURIComponent(u.id)}/$ref`, { method: 'DELETE' }),
      }}
      empty={{ id: 'noMembers', text: 'This group has no members.' }}
    />
  );
}

/** Delete, confirmed in the page (as Entra's banner asks), not in a dialog: the page goes away after it. */
function DeleteGroup({ group: g, onCancel }: { group: GraphGroup; onCancel: () => void }) {
  const s = useStyles();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => confirm.current?.focus(), []);
  return (
    <div role="group" aria-labelledby="deleteQuestion" id="deleteConfirm">
      <MessageBar intent="warning">
        <MessageBarBody id="deleteQuestion">Delete the group {g.displayName}? Its members lose what the group gave them. This cannot be undone.</MessageBarBody>
      </MessageBar>
      <div className={s.bar}>
        <Button
          id="confirmDelete"
          appearance="primary"
          disabled={busy}
          ref={confirm}
          onClick={() => {
            setBusy(true);
            setError(undefined);
            call(`/v1.0/groups/${encodeURIComponent(g.id)}`, { method: 'DELETE' }).then(
              () => {
                void queryClient.invalidateQueries({ queryKey: ['groups'] });
                navigate('/admin/groups');
              },
              (e: unknown) => {
                setBusy(false);
                setError(e);
              },
            );
          }}
        >
          {busy ? <Spinner size="tiny" label="Delete" /> : 'Delete'}
        </Button>
        <Button id="cancelDelete" disabled={busy} onClick={onCancel}>
          Cancel
        </Button>
      </div>
      {error !== undefined && <ErrorBar error={error} />}
    </div>
  );
}
