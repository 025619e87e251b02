// Expose an API: the Application ID URI (api://{client id} offered) and the delegated permissions (scopes)
// the API defines: add (scope name, who can consent, consent texts) and remove (Entra refuses removing an
// enabled scope, so it is disabled, then removed).
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
import { ErrorBar } from '../ErrorBar';
import { type Application, type PermissionScope, identifierUriProblem, patchApp, permissionValueProblem, scopeBody } from './graph';
import { ConfirmDialog, type DialogProps, exitMotion, fieldMessage, UPDATE_REASON, useDialog, usePartStyles, useWrite } from './parts';
import { FormDialog } from '../kit/FormDialog';
import { byRight, useDirectoryRight } from '../kit/rights';

function IdentifierUri({ app }: { app: Application }) {
  const s = usePartStyles();
  const current = app.identifierUris[0] ?? '';
  const [draft, setDraft] = useState(current || `api://${app.appId}`);
  const [problem, setProblem] = useState<string>();
  const [saved, setSaved] = useState(false);
  const w = useWrite([['app', app.id]]);
  const may = useDirectoryRight('updateApplication');
  async function save() {
    const p = identifierUriProblem(draft);
    setProblem(p);
    setSaved(false);
    if (p) return;
    setSaved(await w.run(() => patchApp(app.id, { identifierUris: [draft.trim(), ...app.identifierUris.slice(1)] })));
  }
  return (
    <form
      noValidate
      className={s.form}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2 className={s.h2}>Application ID URI</h2>
      <Text as="p" block className={s.muted} id="identifierUriCurrent">
        {current ? `Set: ${current}` : 'Not set. An API needs one before it defines scopes.'}
      </Text>
      {w.error !== undefined && <ErrorBar error={w.error} />}
      <div className={s.row}>
        <Field label="Application ID URI" className={s.grow} {...fieldMessage('identifierUriError', problem)}>
          <Input id="identifierUri" value={draft} onChange={(_, d) => setDraft(d.value)} />
        </Field>
        <Button type="submit" appearance="primary" id="saveIdentifierUri" disabledFocusable={w.busy} {...byRight(may, UPDATE_REASON)}>
          Save
        </Button>
      </div>
      {saved && (
        <Text id="identifierUriSaved" role="status">
          Saved.
        </Text>
      )}
    </form>
  );
}

function AddScope({ app, open, onClose, onExited }: DialogProps & { app: Application }) {
  const [value, setValue] = useState('');
  const [type, setType] = useState<'Admin' | 'User'>('Admin');
  const [displayName, setDisplayName] = useState('');
  const [description, setDescription] = useState('');
  const [problems, setProblems] = useState<{ value?: string; displayName?: string; description?: string }>({});
  const w = useWrite([['app', app.id]]);
  const scopes = app.api.oauth2PermissionScopes;

  async function add() {
    const p = {
      value: permissionValueProblem(value.trim(), scopes.map((x) => x.value), 'scope name'),
      displayName: displayName.trim() ? undefined : 'Enter the admin consent display name.',
      description: description.trim() ? undefined : 'Enter the admin consent description.',
    };
    setProblems(p);
    if (p.value || p.displayName || p.description) return;
    const scope: PermissionScope = { id: crypto.randomUUID(), value: value.trim(), type, isEnabled: true, adminConsentDisplayName: displayName.trim(), adminConsentDescription: description.trim(), userConsentDisplayName: null, userConsentDescription: null };
    if (await w.run(() => patchApp(app.id, { api: { oauth2PermissionScopes: [...scopes.map(scopeBody), scope] } }))) onClose();
  }

  return (
    <FormDialog
      open={open}
      onDismiss={onClose}
      surfaceMotion={exitMotion(onExited)}
      onSubmit={() => void add()}
      id="addScopeDialog"
      title="Add a scope"
      error={w.error}
      submit={{ id: 'addScopeButton', label: 'Add scope', disabledFocusable: w.busy }}
      cancel={{ id: 'cancelScopeButton' }}
    >
      <Field label="Scope name" required hint={`${app.identifierUris[0] ?? ''}/${value || '…'}`} {...fieldMessage('scopeValueError', problems.value)}>
        <Input id="scopeValue" value={value} onChange={(_, d) => setValue(d.value)} />
      </Field>
      <Field label="Who can consent?">
        <RadioGroup id="scopeType" layout="horizontal" value={type} onChange={(_, d) => setType(d.value as 'Admin' | 'User')}>
          <Radio value="User" label="Admins and users" />
          <Radio value="Admin" label="Admins only" />
        </RadioGroup>
      </Field>
      <Field label="Admin consent display name" required {...fieldMessage('scopeDisplayNameError', problems.displayName)}>
        <Input id="scopeDisplayName" value={displayName} onChange={(_, d) => setDisplayName(d.value)} />
      </Field>
      <Field label="Admin consent description" required {...fieldMessage('scopeDescriptionError', problems.description)}>
        <Textarea id="scopeDescription" value={description} onChange={(_, d) => setDescription(d.value)} />
      </Field>
    </FormDialog>
  );
}

export function ExposeApiSection({ app }: { app: Application }) {
  const s = usePartStyles();
  const adding = useDialog();
  const removing = useDialog<PermissionScope>();
  const scopes = app.api.oauth2PermissionScopes;
  const uri = app.identifierUris[0];
  const may = useDirectoryRight('updateApplication');
  return (
    <>
      <IdentifierUri app={app} />
      <h2 className={s.h2}>Scopes defined by this API</h2>
      <div className={s.toolbar}>
        <Button appearance="primary" id="addScope" disabled={!uri || !may.allowed} aria-describedby={may.reason ? UPDATE_REASON : uri ? undefined : 'addScopeReason'} onClick={() => adding.show()}>
          Add a scope
        </Button>
        {!uri && (
          <Text id="addScopeReason" className={s.muted}>
            Set the Application ID URI first.
          </Text>
        )}
      </div>
      {scopes.length ? (
        <Table size="small" aria-label="Scopes" id="scopesTable">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Scope</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>Who can consent</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>Admin consent display name</TableHeaderCell>
              <TableHeaderCell>State</TableHeaderCell>
              <TableHeaderCell className={s.actionCell}>
                <span className={s.muted}>Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {scopes.map((x) => (
              <TableRow key={x.id} data-scope={x.value}>
                <TableCell className={s.mono}>{uri ? `${uri}/${x.value}` : x.value}</TableCell>
                <TableCell className={s.wideOnly}>{x.type === 'User' ? 'Admins and users' : 'Admins only'}</TableCell>
                <TableCell className={mergeClasses(s.cell, s.wideOnly)}>{x.adminConsentDisplayName ?? '—'}</TableCell>
                <TableCell>{x.isEnabled ? 'Enabled' : 'Disabled'}</TableCell>
                <TableCell className={s.actionCell}>
                  <Button size="small" id={`removeScope-${x.value}`} {...byRight(may, UPDATE_REASON)} aria-label={`Remove the scope ${x.value}`} onClick={() => removing.show(x)}>
                    Remove
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Text as="p" block id="noScopes">
          No scopes have been defined.
        </Text>
      )}
      {adding.mounted && <AddScope key={adding.key} {...adding.props} app={app} />}
      {removing.mounted && removing.value && <RemoveScope key={removing.key} {...removing.props} app={app} scope={removing.value} />}
    </>
  );
}

function RemoveScope({ app, scope, ...dialog }: DialogProps & { app: Application; scope: PermissionScope }) {
  const qc = useQueryClient();
  const scopes = app.api.oauth2PermissionScopes.map(scopeBody);
  return (
    <ConfirmDialog
      {...dialog}
      id="removeScopeDialog"
      title={`Remove the scope ${scope.value}?`}
      text={`${scope.isEnabled ? 'The scope is disabled, then removed: ' : ''}apps can no longer ask for ${scope.value}, and tokens are no longer issued with it.`}
      confirm="Remove"
      onConfirm={async () => {
        try {
          // Entra: an enabled scope is disabled before it is removed
          if (scope.isEnabled) await patchApp(app.id, { api: { oauth2PermissionScopes: scopes.map((x) => (x.id === scope.id ? { ...x, isEnabled: false } : x)) } });
          await patchApp(app.id, { api: { oauth2PermissionScopes: scopes.filter((x) => x.id !== scope.id) } });
        } finally {
          await qc.invalidateQueries({ queryKey: ['app', app.id] });
        }
      }}
    />
  );
}
