// Authentication methods > Policies, as Entra shows it: the eight method configurations with their target
// and state (each opens its pane), and the policy's own settings (system-preferred multifactor
// authentication, the migration state), from Graph's /policies/authenticationMethodsPolicy.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Field, Link, Select, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title2 } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { ALL_USERS, type MethodConfig, type MethodsPolicy, POLICY_PATH, showRefusal, useTenantRight } from './api';
import { ReadOnlyBar, RefusalBar, SavedBar, fieldError, useTenantStyles } from './common';
import { MethodDialog } from './MethodDialog';
import { METHOD_NAMES } from './MethodSettings';

function targetText(c: MethodConfig): string {
  if (c.includeTargets.some((t) => t.id === ALL_USERS)) return c.excludeTargets.length ? `All users, ${c.excludeTargets.length} excluded group(s)` : 'All users';
  const n = c.includeTargets.length;
  return n === 0 ? 'Nobody' : `${n} group${n === 1 ? '' : 's'}${c.excludeTargets.length ? `, ${c.excludeTargets.length} excluded` : ''}`;
}

const SETTINGS_FIELDS: Record<string, string> = { systemCredentialPreferences: 'systemPreferred', policyMigrationState: 'migrationState' };

function PolicySettings({ policy, allowed, onSaved }: { policy: MethodsPolicy; allowed: boolean; onSaved: (text: string | undefined) => void }) {
  const s = useTenantStyles();
  const qc = useQueryClient();
  const [system, setSystem] = useState<string>(policy.systemCredentialPreferences.state);
  const [migration, setMigration] = useState<string>(policy.policyMigrationState);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [refusal, setRefusal] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function save() {
    onSaved(undefined);
    setErrors({});
    setRefusal(undefined);
    setBusy(true);
    try {
      await call(POLICY_PATH, { method: 'PATCH', body: { systemCredentialPreferences: { state: system }, policyMigrationState: migration } });
      await qc.invalidateQueries({ queryKey: ['methodsPolicy'] });
      onSaved('The policy settings were saved.');
    } catch (e) {
      showRefusal(e, SETTINGS_FIELDS, setErrors, setRefusal);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className={s.form}
      noValidate
      aria-labelledby="policySettingsTitle"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2 className={s.h2} id="policySettingsTitle">
        Settings
      </h2>
      <RefusalBar error={refusal} />
      <Field label="System-preferred multifactor authentication" hint="Microsoft managed is enabled: users are asked first for the strongest method they registered." {...fieldError('systemPreferred', errors.systemPreferred)}>
        <Select id="systemPreferred" value={system} disabled={!allowed} onChange={(_, d) => setSystem(d.value)}>
          <option value="default">Microsoft managed</option>
          <option value="enabled">Enabled</option>
          <option value="disabled">Disabled</option>
        </Select>
      </Field>
      <Field label="Migration of the legacy MFA and SSPR policies" {...fieldError('migrationState', errors.migrationState)}>
        <Select id="migrationState" value={migration} disabled={!allowed} onChange={(_, d) => setMigration(d.value)}>
          <option value="preMigration">Pre-migration</option>
          <option value="migrationInProgress">Migration in progress</option>
          <option value="migrationComplete">Migration complete</option>
        </Select>
      </Field>
      <div className={s.buttons}>
        <Button id="savePolicySettings" type="submit" appearance="primary" disabled={!allowed} disabledFocusable={busy}>
          Save
        </Button>
      </div>
    </form>
  );
}

export function MethodsPolicyPage() {
  const s = useTenantStyles();
  const policy = useQuery({ queryKey: ['methodsPolicy'], queryFn: () => call<MethodsPolicy>(POLICY_PATH) });
  const right = useTenantRight('updateMethodsPolicy');
  // the configuration shown (n: one dialog per opening) and whether its dialog is open
  const [shown, setShown] = useState<{ id: string; n: number } | undefined>();
  const [open, setOpen] = useState(false);
  const [saved, setSaved] = useState<string | undefined>();
  const p = policy.data;
  // focus goes back to the method's link when its dialog closes
  function close() {
    setOpen(false);
    if (!shown) return;
    // The dialog is unmounted once Fluent's focus manager took aria-hidden off the page: it does so 250 ms
    // after a modal closes, and never if the last dialog is unmounted before (the page would stay hidden
    // from assistive technology). Focus goes back to the method's link.
    const { id, n } = shown;
    setTimeout(() => {
      setShown((cur) => (cur?.n === n ? undefined : cur));
      document.getElementById(`open-${id}`)?.focus();
    }, 600);
  }
  const shownConfig = p?.authenticationMethodConfigurations.find((c) => c.id === shown?.id);
  return (
    <section aria-labelledby="methodsTitle">
      <Title2 as="h1" id="methodsTitle">
        Authentication methods | Policies
      </Title2>
      <Text as="p" block className={s.intro}>
        Configure the authentication methods your users may register and use. A user in scope of a method may use it to sign in; members of an excluded group may not, whatever else includes them.
      </Text>
      {(policy.isPending || right.pending) && <Spinner label="Loading the policy" />}
      {policy.isError && <ErrorBar error={policy.error} />}
      {right.error !== undefined && <ErrorBar error={right.error} />}
      {p && !right.pending && !right.allowed && <ReadOnlyBar id="methodsReadOnly" reason={right.reason} />}
      {saved && <SavedBar id="methodsSaved" text={saved} />}
      {p && !right.pending && (
        <>
          <Table aria-label="Authentication method policies" id="methodsTable" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Method</TableHeaderCell>
                <TableHeaderCell>Target</TableHeaderCell>
                <TableHeaderCell>Enabled</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {p.authenticationMethodConfigurations.map((c) => (
                <TableRow key={c.id} id={`method-${c.id}`} data-state={c.state}>
                  <TableCell>
                    <Link
                      as="button"
                      id={`open-${c.id}`}
                      onClick={() => {
                        setSaved(undefined);
                        setShown({ id: c.id, n: (shown?.n ?? 0) + 1 });
                        setOpen(true);
                      }}
                    >
                      {METHOD_NAMES[c.id] ?? c.id}
                    </Link>
                  </TableCell>
                  <TableCell>{targetText(c)}</TableCell>
                  <TableCell>{c.state === 'enabled' ? <Badge appearance="tint" color="success">Yes</Badge> : <Badge appearance="tint" color="informative">No</Badge>}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          <div className={s.section}>
            <PolicySettings key={p.lastModifiedDateTime ?? 'never'} policy={p} allowed={right.allowed} onSaved={setSaved} />
          </div>
        </>
      )}
      {shown && shownConfig && (
        <MethodDialog
          key={shown.n}
          open={open}
          config={shownConfig}
          allowed={right.allowed}
          reason={right.reason}
          onClose={close}
          onSaved={(name) => {
            close();
            setSaved(`${name} was saved.`);
          }}
        />
      )}
    </section>
  );
}
