// The server's word on which directory writes the signed-in admin may make (GET /latchkey/v1/directory/actions):
// a button the admin may not use is disabled ahead of time, the server's reason shown beside it and tied
// to it for screen readers. The server still checks every write.
import { useQuery } from '@tanstack/react-query';
import { Text, makeStyles, tokens } from '@fluentui/react-components';
import { call } from '../api';

export type DirectoryActionName =
  | 'createGroup'
  | 'createRoleAssignableGroup'
  | 'updateGroup'
  | 'updateRoleAssignableGroup'
  | 'deleteGroup'
  | 'deleteRoleAssignableGroup'
  | 'changeGroupMembers'
  | 'changeRoleAssignableGroupMembers'
  | 'assignDirectoryRoles'
  | 'createApplication'
  | 'updateApplication'
  | 'deleteApplication'
  | 'manageApplicationSecrets'
  | 'createServicePrincipal'
  | 'grantDelegatedPermissions'
  | 'grantApplicationPermissions'
  | 'grantGraphApplicationPermissions';

interface DirectoryAction {
  name: DirectoryActionName;
  allowed: boolean;
  reason?: string;
}

/** Whether a write is allowed; `reason` when it is not (undefined while the answer is awaited). */
export interface Right {
  allowed: boolean;
  pending: boolean;
  reason?: string;
}

/** The rights of several writes at once: the first refused one decides. */
export function useDirectoryRights(): (...names: DirectoryActionName[]) => Right {
  const q = useQuery({ queryKey: ['directoryActions'], queryFn: () => call<{ value: DirectoryAction[] }>('/latchkey/v1/directory/actions'), staleTime: 60_000 });
  return (...names) => {
    if (q.isPending) return { allowed: false, pending: true };
    if (q.isError) return { allowed: false, pending: false, reason: `Your rights could not be read: ${q.error.message}` };
    for (const n of names) {
      const a = q.data.value.find((x) => x.name === n);
      if (!a?.allowed) return { allowed: false, pending: false, reason: a?.reason ?? 'This action is not available.' };
    }
    return { allowed: true, pending: false };
  };
}

export function useDirectoryRight(name: DirectoryActionName): Right {
  return useDirectoryRights()(name);
}

/** A button's props for a right: disabled unless allowed, described by the reason's element `reasonId`. */
export function byRight(right: Right, reasonId: string): { disabled: boolean; 'aria-describedby'?: string } {
  return { disabled: !right.allowed, ...(right.reason ? { 'aria-describedby': reasonId } : {}) };
}

const useStyles = makeStyles({
  reason: { display: 'block', color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200, maxWidth: '560px', alignSelf: 'center' },
});

/** The server's reason why a right is refused, with the id the refused buttons point at (nothing when allowed). */
export function Reason({ id, right }: { id: string; right: Right }) {
  const s = useStyles();
  return right.reason ? (
    <Text id={id} className={s.reason}>
      {right.reason}
    </Text>
  ) : null;
}
