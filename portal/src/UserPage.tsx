// A user's overview: the properties an admin looks at first, and the actions the server says the caller
// may do on this user (the others disabled, with the server's reason). Each action opens its preview.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Badge, Button, Spinner, Text, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { type ActionInfo, type ActionsDoc, type GraphUser, DETAIL_SELECT, call } from './api';
import { ActionDialog } from './ActionDialog';
import { ErrorBar } from './ErrorBar';
import { navigate } from './router';
import { UserTabs } from './user/UserTabs';
import { signedInAccount } from './auth';
import { BackLink } from './kit/BackLink';

const useStyles = makeStyles({
  title: { display: 'block' },
  props: {
    display: 'grid',
    gridTemplateColumns: 'minmax(140px, max-content) 1fr',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalS,
    margin: `${tokens.spacingVerticalM} 0`,
    '@media (max-width: 600px)': { gridTemplateColumns: '1fr', rowGap: 0 },
  },
  term: { fontWeight: tokens.fontWeightSemibold, '@media (max-width: 600px)': { marginTop: tokens.spacingVerticalS } },
  value: { margin: 0, overflowWrap: 'anywhere' },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalL, marginTop: tokens.spacingVerticalL },
  action: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, maxWidth: '260px' },
  reason: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200 },
  playbook: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, maxWidth: '320px', marginTop: tokens.spacingVerticalXL, paddingTop: tokens.spacingVerticalM, borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
});

/** The actions of this slice, in the order the page shows them. */
const SHOWN: { name: string; label: string }[] = [
  { name: 'resetPassword', label: 'Reset password' },
  { name: 'revokeSessions', label: 'Revoke sessions' },
  { name: 'disableAccount', label: 'Disable account' },
  { name: 'enableAccount', label: 'Enable account' },
  { name: 'deleteUser', label: 'Delete user' },
];

function when(v: string | null | undefined): string {
  return v ? new Date(v).toLocaleString() : 'never';
}

export function UserPage({ id }: { id: string }) {
  const s = useStyles();
  const [open, setOpen] = useState<{ name: string; label: string } | undefined>();
  const user = useQuery({ queryKey: ['user', id], queryFn: () => call<GraphUser>(`/v1.0/users/${encodeURIComponent(id)}?$select=${DETAIL_SELECT}`) });
  const actions = useQuery({ queryKey: ['actions', id], queryFn: () => call<ActionsDoc>(`/latchkey/v1/users/${encodeURIComponent(id)}/actions`) });
  const byName = new Map<string, ActionInfo>((actions.data?.value ?? []).map((a) => [a.name, a]));
  const u = user.data;
  // Disable or Enable, whichever applies to the account as it is
  const shown = SHOWN.filter((a) => !u || (a.name === 'disableAccount' ? u.accountEnabled !== false : a.name === 'enableAccount' ? u.accountEnabled === false : true));

  return (
    <section aria-labelledby="userTitle">
      <BackLink to="/admin/">All users</BackLink>
      {user.isPending && <Spinner label="Loading the user" />}
      {user.isError && <ErrorBar error={user.error} />}
      {u && (
        <>
          <Title2 as="h1" id="userTitle" className={s.title}>
            {u.displayName}
          </Title2>
          <UserTabs id={u.id} current="overview" />
          <dl className={s.props} id="userProperties">
            <dt className={s.term}>User principal name</dt>
            <dd className={s.value}>{u.userPrincipalName}</dd>
            <dt className={s.term}>Object ID</dt>
            <dd className={s.value}>{u.id}</dd>
            <dt className={s.term}>Mail</dt>
            <dd className={s.value}>{u.mail ?? '—'}</dd>
            <dt className={s.term}>Account</dt>
            <dd className={s.value} id="accountState">
              {u.accountEnabled ? <Badge appearance="tint" color="success">Enabled</Badge> : <Badge appearance="tint" color="danger">Disabled</Badge>}
            </dd>
            <dt className={s.term}>Created</dt>
            <dd className={s.value}>{when(u.createdDateTime)}</dd>
            <dt className={s.term}>Last password change</dt>
            <dd className={s.value} id="lastPasswordChange">
              {when(u.lastPasswordChangeDateTime)}
            </dd>
            <dt className={s.term}>Sign-in sessions valid from</dt>
            <dd className={s.value} id="sessionsValidFrom" data-value={u.signInSessionsValidFromDateTime ?? ''}>
              {when(u.signInSessionsValidFromDateTime)}
            </dd>
            <dt className={s.term}>Must change password at next sign-in</dt>
            <dd className={s.value}>{u.passwordProfile?.forceChangePasswordNextSignIn ? 'Yes' : 'No'}</dd>
          </dl>
        </>
      )}
      {actions.isError && <ErrorBar error={actions.error} />}
      {u && actions.data && (
        <div className={s.actions} role="group" aria-label="Actions on this user">
          {shown.map((a) => {
            const info = byName.get(a.name);
            const allowed = info?.allowed === true;
            const reasonId = `${a.name}-reason`;
            return (
              <div className={s.action} key={a.name}>
                <Button id={`action-${a.name}`} appearance={info?.destructive ? 'secondary' : 'primary'} disabled={!allowed} aria-describedby={allowed ? undefined : reasonId} onClick={() => setOpen(a)}>
                  {a.label}
                </Button>
                {!allowed && (
                  <Text className={s.reason} id={reasonId}>
                    {info?.reason ?? 'This action is not available.'}
                  </Text>
                )}
              </div>
            );
          })}
        </div>
      )}
      {u && actions.data && <PlaybookButton userId={u.id} revoke={byName.get('revokeSessions')} />}
      {open && u && <ActionDialog userId={u.id} action={open.name} label={open.label} userName={u.displayName} onClose={() => setOpen(undefined)} onDeleted={() => navigate('/admin/')} />}
    </section>
  );
}

/** The compromised-account playbook (its wizard): the rights of Revoke sessions, never on oneself. */
function PlaybookButton({ userId, revoke }: { userId: string; revoke: ActionInfo | undefined }) {
  const s = useStyles();
  const self = signedInAccount()?.oid === userId;
  const reason = self ? 'You cannot run the playbook on your own account.' : revoke?.allowed ? undefined : (revoke?.reason ?? 'This action is not available.');
  return (
    <div className={s.playbook}>
      <Button id="action-playbook" appearance="primary" disabled={reason !== undefined} aria-describedby={reason ? 'playbook-reason' : 'playbook-about'} onClick={() => navigate(`/admin/users/${encodeURIComponent(userId)}/playbook`)}>
        Compromised account
      </Button>
      <Text className={s.reason} id={reason ? 'playbook-reason' : 'playbook-about'}>
        {reason ?? 'Take the account back from an attacker: the recovery playbook, step by step.'}
      </Text>
    </div>
  );
}
