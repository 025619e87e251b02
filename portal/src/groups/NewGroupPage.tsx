// New group (Graph POST /groups), a page of its own as in Entra: a security group. An empty name or nickname is refused at its field
// before the call; what the server refuses about a property (a nickname's characters, a length) is shown
// at that property's field, anything else above the buttons. Nothing is created on a refusal.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Checkbox, Field, Input, Spinner, Textarea, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { fieldState, refusalAt } from '../kit/fields';
import { Reason, byRight, useDirectoryRights } from '../kit/rights';
import { navigate } from '../router';
import type { GraphGroup } from './types';
import { BackLink } from '../kit/BackLink';

const useStyles = makeStyles({
  title: { display: 'block' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '560px', marginTop: tokens.spacingVerticalM },
  buttons: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
});

const FIELD_PROPERTIES = { displayName: ['displayName'], mailNickname: ['mailNickname'], description: ['description'], isAssignableToRole: ['isAssignableToRole'] };

export function NewGroupPage() {
  const s = useStyles();
  const queryClient = useQueryClient();
  const [v, setV] = useState({ displayName: '', mailNickname: '', description: '', isAssignableToRole: false });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const rights = useDirectoryRights();
  const plain = rights('createGroup');
  const roleAssignable = rights('createRoleAssignableGroup');
  // Entra: a Privileged Role Administrator creates role-assignable groups but no plain one, so for it the
  // box is ticked and fixed; a Groups or User Administrator the other way round
  const onlyRoleAssignable = !plain.allowed && roleAssignable.allowed;
  const assignable = v.isAssignableToRole || onlyRoleAssignable;
  const create = assignable ? roleAssignable : plain;
  const boxReason = onlyRoleAssignable ? plain.reason : plain.allowed ? roleAssignable.reason : undefined;

  const submit = async () => {
    const own: Record<string, string> = {};
    if (!v.displayName.trim()) own.displayName = 'Enter a group name.';
    if (!v.mailNickname.trim()) own.mailNickname = 'Enter a mail nickname.';
    setErrors(own);
    setFormError(undefined);
    if (Object.keys(own).length) return;
    setBusy(true);
    try {
      const body = { displayName: v.displayName.trim(), mailNickname: v.mailNickname.trim(), mailEnabled: false, securityEnabled: true, isAssignableToRole: assignable, ...(v.description.trim() ? { description: v.description.trim() } : {}) };
      const g = await call<GraphGroup>('/v1.0/groups', { method: 'POST', body });
      await queryClient.invalidateQueries({ queryKey: ['groups'] });
      navigate(`/admin/groups/${encodeURIComponent(g.id)}`);
    } catch (e) {
      const at = refusalAt(e, FIELD_PROPERTIES);
      setErrors(at.fields);
      setFormError(at.form);
      setBusy(false);
    }
  };

  const field = (key: keyof typeof FIELD_PROPERTIES) => fieldState(errors[key]);
  return (
    <section aria-labelledby="newGroupTitle">
      <BackLink to="/admin/groups">All groups</BackLink>
      <Title2 as="h1" id="newGroupTitle" className={s.title}>
        New group
      </Title2>
      <form
        noValidate
        className={s.form}
        id="newGroupForm"
        aria-labelledby="newGroupTitle"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="Group type" hint="Security groups only: Microsoft 365 and dynamic groups are not supported.">
          <Input id="groupType" value="Security" readOnly />
        </Field>
        <Field label="Group name" required {...field('displayName')}>
          <Input id="groupName" value={v.displayName} onChange={(_, d) => setV({ ...v, displayName: d.value })} autoFocus />
        </Field>
        <Field label="Mail nickname" required hint={'ASCII letters, digits and symbols, without spaces or any of @ ( ) \\ [ ] " ; : < > ,'} {...field('mailNickname')}>
          <Input id="groupMailNickname" value={v.mailNickname} onChange={(_, d) => setV({ ...v, mailNickname: d.value })} />
        </Field>
        <Field label="Description" {...field('description')}>
          <Textarea id="groupDescription" value={v.description} onChange={(_, d) => setV({ ...v, description: d.value })} />
        </Field>
        <Field {...field('isAssignableToRole')} hint={boxReason ? { id: 'roleAssignableReason', children: boxReason } : undefined}>
          <Checkbox
            id="groupRoleAssignable"
            label="Microsoft Entra roles can be assigned to the group"
            checked={assignable}
            disabled={onlyRoleAssignable || (!roleAssignable.allowed && !v.isAssignableToRole)}
            onChange={(_, d) => setV({ ...v, isAssignableToRole: d.checked === true })}
          />
        </Field>
        {formError !== undefined && <ErrorBar error={formError} />}
        <div className={s.buttons}>
          <Button type="submit" appearance="primary" id="createGroup" {...byRight(create, 'createGroupReason')} disabled={busy || !create.allowed}>
            {busy ? <Spinner size="tiny" label="Create" /> : 'Create'}
          </Button>
          <Button id="cancelButton" disabled={busy} onClick={() => navigate('/admin/groups')}>
            Cancel
          </Button>
          <Reason id="createGroupReason" right={create} />
        </div>
      </form>
    </section>
  );
}
