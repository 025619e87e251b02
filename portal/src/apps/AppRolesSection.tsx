// App roles: the roles the app defines (for users and groups, for applications, or both): add (display
// name, allowed member types, value, description) and remove (disabled first, then removed, as Entra asks).
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Field,
  Input,
  Radio,
  RadioGroup,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Textarea,
  mergeClasses,
} from '@fluentui/react-components';
import { type AppRole, type Application, patchApp, permissionValueProblem, roleBody } from './graph';
import { ConfirmDialog, type DialogProps, exitMotion, fieldMessage, UPDATE_REASON, useDialog, usePartStyles, useWrite } from './parts';
import { FormDialog } from '../kit/FormDialog';
import { byRight, useDirectoryRight } from '../kit/rights';

const MEMBERS: Record<string, { label: string; types: string[] }> = {
  User: { label: 'Users/Groups', types: ['User'] },
  Application: { label: 'Applications', types: ['Application'] },
  Both: { label: 'Both (Users/Groups + Applications)', types: ['User', 'Application'] },
};

const membersLabel = (types: string[]) => (types.length > 1 ? 'Users/Groups, Applications' : types[0] === 'User' ? 'Users/Groups' : 'Applications');

function AddRole({ app, open, onClose, onExited }: DialogProps & { app: Application }) {
  const [displayName, setDisplayName] = useState('');
  const [members, setMembers] = useState('Application');
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  const [problems, setProblems] = useState<{ displayName?: string; value?: string; description?: string }>({});
  const w = useWrite([['app', app.id]]);

  async function add() {
    const p = {
      displayName: !displayName.trim() ? 'Enter a display name.' : displayName.length > 100 ? 'The display name is at most 100 characters.' : undefined,
      value: permissionValueProblem(value.trim(), app.appRoles.map((r) => r.value ?? ''), 'value'),
      description: description.trim() ? undefined : 'Enter a description.',
    };
    setProblems(p);
    if (p.displayName || p.value || p.description) return;
    const role: AppRole = { id: crypto.randomUUID(), displayName: displayName.trim(), value: value.trim(), description: description.trim(), isEnabled: true, allowedMemberTypes: MEMBERS[members]!.types };
    if (await w.run(() => patchApp(app.id, { appRoles: [...app.appRoles.map(roleBody), role] }))) onClose();
  }

  return (
    <FormDialog
      open={open}
      onDismiss={onClose}
      surfaceMotion={exitMotion(onExited)}
      onSubmit={() => void add()}
      id="addRoleDialog"
      title="Create app role"
      error={w.error}
      submit={{ id: 'addRoleButton', label: 'Apply', disabledFocusable: w.busy }}
      cancel={{ id: 'cancelRoleButton' }}
    >
      <Field label="Display name" required {...fieldMessage('roleDisplayNameError', problems.displayName)}>
        <Input id="roleDisplayName" value={displayName} onChange={(_, d) => setDisplayName(d.value)} />
      </Field>
      <Field label="Allowed member types">
        <RadioGroup id="roleMembers" value={members} onChange={(_, d) => setMembers(d.value)}>
          {Object.entries(MEMBERS).map(([k, m]) => (
            <Radio key={k} value={k} label={m.label} />
          ))}
        </RadioGroup>
      </Field>
      <Field label="Value" required hint="The value in the token's roles claim." {...fieldMessage('roleValueError', problems.value)}>
        <Input id="roleValue" value={value} onChange={(_, d) => setValue(d.value)} />
      </Field>
      <Field label="Description" required {...fieldMessage('roleDescriptionError', problems.description)}>
        <Textarea id="roleDescription" value={description} onChange={(_, d) => setDescription(d.value)} />
      </Field>
    </FormDialog>
  );
}

export function AppRolesSection({ app }: { app: Application }) {
  const s = usePartStyles();
  const qc = useQueryClient();
  const adding = useDialog();
  const removing = useDialog<AppRole>();
  const gone = removing.value;
  const roles = app.appRoles.map(roleBody);
  const may = useDirectoryRight('updateApplication');
  return (
    <>
      <h2 className={s.h2}>App roles</h2>
      <Text as="p" block className={s.muted}>
        App roles are custom roles assigned to users, groups or applications; they appear in the roles claim of the tokens issued for this app.
      </Text>
      <div className={s.toolbar}>
        <Button appearance="primary" id="addRole" {...byRight(may, UPDATE_REASON)} onClick={() => adding.show()}>
          Create app role
        </Button>
      </div>
      {app.appRoles.length ? (
        <Table size="small" aria-label="App roles" id="rolesTable">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Display name</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>Description</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>Allowed member types</TableHeaderCell>
              <TableHeaderCell>Value</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>State</TableHeaderCell>
              <TableHeaderCell className={s.actionCell}>
                <span className={s.muted}>Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {app.appRoles.map((r) => (
              <TableRow key={r.id} data-role={r.value ?? r.id}>
                <TableCell className={s.cell}>{r.displayName ?? '—'}</TableCell>
                <TableCell className={mergeClasses(s.cell, s.wideOnly)}>{r.description ?? '—'}</TableCell>
                <TableCell className={s.wideOnly}>{membersLabel(r.allowedMemberTypes)}</TableCell>
                <TableCell className={s.mono}>{r.value ?? '—'}</TableCell>
                <TableCell className={s.wideOnly}>{r.isEnabled ? 'Enabled' : 'Disabled'}</TableCell>
                <TableCell className={s.actionCell}>
                  <Button size="small" id={`removeRole-${r.value ?? r.id}`} {...byRight(may, UPDATE_REASON)} aria-label={`Remove the app role ${r.displayName ?? r.value ?? r.id}`} onClick={() => removing.show(r)}>
                    Remove
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Text as="p" block id="noRoles">
          No app roles have been defined.
        </Text>
      )}
      {adding.mounted && <AddRole key={adding.key} {...adding.props} app={app} />}
      {removing.mounted && gone && (
        <ConfirmDialog
          key={removing.key}
          {...removing.props}
          id="removeRoleDialog"
          title={`Remove the app role ${gone.displayName ?? gone.value ?? ''}?`}
          text={`${gone.isEnabled ? 'The role is disabled, then removed: ' : ''}it is no longer assignable, and tokens no longer carry it.`}
          confirm="Remove"
          onConfirm={async () => {
            try {
              // Entra: an enabled app role is disabled before it is removed
              if (gone.isEnabled) await patchApp(app.id, { appRoles: roles.map((r) => (r.id === gone.id ? { ...r, isEnabled: false } : r)) });
              await patchApp(app.id, { appRoles: roles.filter((r) => r.id !== gone.id) });
            } finally {
              await qc.invalidateQueries({ queryKey: ['app', app.id] });
            }
          }}
        />
      )}
    </>
  );
}
