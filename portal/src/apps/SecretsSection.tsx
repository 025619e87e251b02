// Certificates & secrets: the app's client secrets (description, expiry, the first characters, the secret
// id) and "New client secret": description and expiry; the value is shown once, in the panel that added
// it, with a copy button, and is gone when the panel closes (the server keeps only its hash). Removing a
// secret asks first; a removed secret is refused at the token endpoint at once.
import { useState } from 'react';
import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  mergeClasses,
} from '@fluentui/react-components';
import { useQueryClient } from '@tanstack/react-query';
import { call } from '../api';
import { type Application, type PasswordCredential, appPath, when } from './graph';
import { ConfirmDialog, type DialogProps, exitMotion, fieldMessage, useDialog, usePartStyles } from './parts';
import { FormDialog } from '../kit/FormDialog';
import { Reason, byRight, useDirectoryRight } from '../kit/rights';

const DAY = 86_400_000;
const EXPIRIES: { value: string; label: string; days?: number }[] = [
  { value: '180', label: '180 days (6 months), recommended', days: 180 },
  { value: '90', label: '90 days (3 months)', days: 90 },
  { value: '365', label: '365 days (12 months)', days: 365 },
  { value: '545', label: '545 days (18 months)', days: 545 },
  { value: '730', label: '730 days (24 months)', days: 730 },
  { value: 'custom', label: 'Custom' },
];

function NewSecret({ app, open, onClose, onExited }: DialogProps & { app: Application }) {
  const s = usePartStyles();
  const qc = useQueryClient();
  const [description, setDescription] = useState('');
  const [expiry, setExpiry] = useState('180');
  const [customEnd, setCustomEnd] = useState('');
  const [problems, setProblems] = useState<{ description?: string; end?: string }>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<PasswordCredential>();
  const [copied, setCopied] = useState(false);

  async function add() {
    const chosen = EXPIRIES.find((e) => e.value === expiry);
    const end = chosen?.days ? Date.now() + chosen.days * DAY : Date.parse(`${customEnd}T00:00:00Z`);
    const p = {
      description: description.length > 256 ? 'The description is at most 256 characters.' : undefined,
      end: chosen?.days ? undefined : !customEnd || Number.isNaN(end) ? 'Choose the date the secret expires.' : end <= Date.now() ? 'The expiry must be a date in the future.' : end > Date.now() + 730 * DAY ? 'A secret lives at most 24 months.' : undefined,
    };
    setProblems(p);
    if (p.description || p.end) return;
    setBusy(true);
    setError(undefined);
    try {
      const pc = await call<PasswordCredential>(`${appPath(app.id)}/addPassword`, { method: 'POST', body: { passwordCredential: { displayName: description.trim() || null, endDateTime: new Date(end).toISOString().replace(/\.\d{3}Z$/, 'Z') } } });
      setAdded(pc);
      await qc.invalidateQueries({ queryKey: ['app', app.id] });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <FormDialog
      open={open}
      modalType="alert"
      onDismiss={onClose}
      surfaceMotion={exitMotion(onExited)}
      onSubmit={() => {
        if (!added) void add();
      }}
      id="newSecretDialog"
      title={added ? 'Client secret added' : 'Add a client secret'}
      error={error}
      submit={added ? undefined : { id: 'addSecretButton', label: 'Add', disabledFocusable: busy }}
      cancel={{ id: 'closeSecretButton', label: added ? 'Done' : 'Cancel' }}
    >
      {!added && (
        <>
          <Field label="Description" {...fieldMessage('secretDescriptionError', problems.description)}>
            <Input id="secretDescription" value={description} onChange={(_, d) => setDescription(d.value)} />
          </Field>
          <Field label="Expires">
            <Select id="secretExpiry" value={expiry} onChange={(_, d) => setExpiry(d.value)}>
              {EXPIRIES.map((e) => (
                <option key={e.value} value={e.value}>
                  {e.label}
                </option>
              ))}
            </Select>
          </Field>
          {expiry === 'custom' && (
            <Field label="End date" {...fieldMessage('secretEndError', problems.end)}>
              <Input id="secretEnd" type="date" value={customEnd} onChange={(_, d) => setCustomEnd(d.value)} />
            </Field>
          )}
        </>
      )}
      {added && (
        <>
          <MessageBar intent="warning">
            <MessageBarBody>
              <MessageBarTitle>Copy the value now</MessageBarTitle>
              It is shown only here, this once: it cannot be read again once this panel closes.
            </MessageBarBody>
          </MessageBar>
          <Field label="Value">
            <Input id="secretValue" readOnly value={added.secretText ?? ''} className={s.mono} />
          </Field>
          <Field label="Secret ID">
            <Input id="secretKeyId" readOnly value={added.keyId} className={s.mono} />
          </Field>
          <div className={s.toolbar}>
            <Button
              id="copySecret"
              onClick={() => {
                navigator.clipboard
                  .writeText(added.secretText ?? '')
                  .then(() => setCopied(true))
                  .catch((e: unknown) => setError(e));
              }}
            >
              Copy to clipboard
            </Button>
            {copied && (
              <Text id="secretCopied" role="status">
                Copied.
              </Text>
            )}
          </div>
        </>
      )}
    </FormDialog>
  );
}

export function SecretsSection({ app }: { app: Application }) {
  const s = usePartStyles();
  const qc = useQueryClient();
  const adding = useDialog();
  const removing = useDialog<PasswordCredential>();
  const r = removing.value;
  const may = useDirectoryRight('manageApplicationSecrets');
  return (
    <>
      <h2 className={s.h2}>Client secrets</h2>
      <Text as="p" block className={s.muted}>
        A secret string the application uses to prove its identity when requesting a token (also called an application password).
      </Text>
      <div className={s.toolbar}>
        <Button appearance="primary" id="newSecret" {...byRight(may, 'secretsReason')} onClick={() => adding.show()}>
          New client secret
        </Button>
        <Reason id="secretsReason" right={may} />
      </div>
      {app.passwordCredentials.length ? (
        <Table size="small" aria-label="Client secrets" id="secretsTable">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Description</TableHeaderCell>
              <TableHeaderCell>Expires</TableHeaderCell>
              <TableHeaderCell>Value</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>Secret ID</TableHeaderCell>
              <TableHeaderCell className={s.actionCell}>
                <span className={s.muted}>Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {app.passwordCredentials.map((c) => (
              <TableRow key={c.keyId} data-key-id={c.keyId}>
                <TableCell className={s.cell}>{c.displayName ?? '—'}</TableCell>
                <TableCell>{when(c.endDateTime)}</TableCell>
                <TableCell className={s.mono}>{c.hint}*****</TableCell>
                <TableCell className={mergeClasses(s.mono, s.wideOnly)}>{c.keyId}</TableCell>
                <TableCell className={s.actionCell}>
                  <Button size="small" id={`removeSecret-${c.keyId}`} {...byRight(may, 'secretsReason')} aria-label={`Remove the secret ${c.displayName ?? c.hint}`} onClick={() => removing.show(c)}>
                    Remove
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Text as="p" block id="noSecrets">
          No client secrets have been created for this application.
        </Text>
      )}
      {adding.mounted && <NewSecret key={adding.key} {...adding.props} app={app} />}
      {removing.mounted && r && (
        <ConfirmDialog
          key={removing.key}
          {...removing.props}
          id="removeSecretDialog"
          title="Remove the client secret?"
          text={`The secret ${r.displayName ? `"${r.displayName}" ` : ''}(${r.hint}*****) stops working at once: token requests with it are refused.`}
          confirm="Remove"
          onConfirm={async () => {
            await call<void>(`${appPath(app.id)}/removePassword`, { method: 'POST', body: { keyId: r.keyId } });
            await qc.invalidateQueries({ queryKey: ['app', app.id] });
          }}
        />
      )}
    </>
  );
}
