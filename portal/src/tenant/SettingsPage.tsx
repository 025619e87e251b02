// Tenant settings (Latchkey's own, /latchkey/v1/tenant/settings): how long "remember MFA on this device"
// lasts, where security info may be registered, and the wrong-code limit. Each value is checked at its
// field as the server checks it; a refusal the server names a field for is shown at that field.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Field, Input, Link, Radio, RadioGroup, Spinner, Text, Title2 } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { navigate } from '../router';
import { SETTINGS_PATH, type TenantSettings, showRefusal, useTenantRight } from './api';
import { ReadOnlyBar, RefusalBar, SavedBar, fieldError, useTenantStyles, wholeNumber } from './common';

type FieldName = 'rememberMfaDays' | 'registrationPolicy' | 'wrongCodeLimit';
const FIELDS: Record<string, FieldName> = { rememberMfaDays: 'rememberMfaDays', registrationPolicy: 'registrationPolicy', wrongCodeLimit: 'wrongCodeLimit' };

function SettingsForm({ initial, allowed, onSaved }: { initial: TenantSettings; allowed: boolean; onSaved: (changed: string[] | undefined) => void }) {
  const s = useTenantStyles();
  const qc = useQueryClient();
  const [days, setDays] = useState(String(initial.rememberMfaDays));
  const [registration, setRegistration] = useState<string>(initial.registrationPolicy);
  const [limit, setLimit] = useState(String(initial.wrongCodeLimit));
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [refusal, setRefusal] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function save() {
    setRefusal(undefined);
    onSaved(undefined);
    const d = wholeNumber(days, 1, 365, 'Remember multifactor authentication');
    const l = wholeNumber(limit, 1, 100, 'The wrong-code limit');
    const found: Partial<Record<FieldName, string>> = {};
    if (typeof d === 'string') found.rememberMfaDays = d;
    if (typeof l === 'string') found.wrongCodeLimit = l;
    if (registration !== 'anywhere' && registration !== 'mfaOrTap') found.registrationPolicy = 'Choose where users may register security info.';
    setErrors(found);
    if (Object.keys(found).length) return;
    const body: Record<string, unknown> = {};
    if (d !== initial.rememberMfaDays) body.rememberMfaDays = d;
    if (registration !== initial.registrationPolicy) body.registrationPolicy = registration;
    if (l !== initial.wrongCodeLimit) body.wrongCodeLimit = l;
    if (!Object.keys(body).length) return onSaved([]);
    setBusy(true);
    try {
      await call<TenantSettings>(SETTINGS_PATH, { method: 'PATCH', body });
      await qc.invalidateQueries({ queryKey: ['tenantSettings'] });
      onSaved(Object.keys(body));
    } catch (e) {
      showRefusal(e, FIELDS, setErrors, setRefusal);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className={s.form}
      noValidate
      aria-label="Tenant settings"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <RefusalBar error={refusal} />
      <Field label="Remember multifactor authentication on trusted devices (days)" hint="1 to 365 days. Users who choose it are not asked again on that browser for this long." {...fieldError('rememberMfaDays', errors.rememberMfaDays)}>
        <Input id="rememberMfaDays" inputMode="numeric" value={days} disabled={!allowed} onChange={(_, v) => setDays(v.value)} />
      </Field>
      <Field label="Users may register security info" {...fieldError('registrationPolicy', errors.registrationPolicy)}>
        <RadioGroup id="registrationPolicy" value={registration} disabled={!allowed} onChange={(_, v) => setRegistration(v.value)}>
          <Radio id="registrationAnywhere" value="anywhere" label="Anywhere, once signed in" />
          <Radio id="registrationMfaOrTap" value="mfaOrTap" label="Only after multifactor authentication or with a Temporary Access Pass" />
        </RadioGroup>
      </Field>
      <Field label="Wrong one-time codes before a method is locked" hint="1 to 100 wrong codes per user and method." {...fieldError('wrongCodeLimit', errors.wrongCodeLimit)}>
        <Input id="wrongCodeLimit" inputMode="numeric" value={limit} disabled={!allowed} onChange={(_, v) => setLimit(v.value)} />
      </Field>
      <div className={s.buttons}>
        <Button id="saveSettings" type="submit" appearance="primary" disabled={!allowed} disabledFocusable={busy}>
          Save
        </Button>
        {busy && <Spinner size="tiny" label="Saving…" />}
      </div>
    </form>
  );
}

export function SettingsPage() {
  const s = useTenantStyles();
  const settings = useQuery({ queryKey: ['tenantSettings'], queryFn: () => call<TenantSettings>(SETTINGS_PATH) });
  const right = useTenantRight('updateTenantSettings');
  const [saved, setSaved] = useState<string | undefined>();
  const d = settings.data;
  return (
    <section aria-labelledby="settingsTitle">
      <Title2 as="h1" id="settingsTitle">
        Tenant settings
      </Title2>
      <Text as="p" block className={s.intro}>
        Latchkey&apos;s own settings for this tenant: how long a remembered device skips multifactor authentication, where users may register their security info, and how many wrong codes a method takes before it is refused.
      </Text>
      {(settings.isPending || right.pending) && <Spinner label="Loading the settings" />}
      {settings.isError && <ErrorBar error={settings.error} />}
      {right.error !== undefined && <ErrorBar error={right.error} />}
      {d && !right.pending && !right.allowed && <ReadOnlyBar id="settingsReadOnly" reason={right.reason} />}
      {saved && <SavedBar id="settingsSaved" text={saved} />}
      {d && !right.pending && (
        <>
          <SettingsForm key={d.lastModifiedDateTime ?? 'never'} initial={d} allowed={right.allowed} onSaved={(changed) => setSaved(!changed ? undefined : changed.length ? `The tenant settings were saved (${changed.join(', ')}).` : 'Nothing changed: there was nothing to save.')} />
          <div className={s.section}>
            <h2 className={s.h2}>Security defaults</h2>
            <Text as="p" block id="securityDefaultsState">
              Security defaults are {d.securityDefaultsEnabled ? 'enabled' : 'disabled'}.{' '}
              <Link
                href="/admin/security-defaults"
                onClick={(e) => {
                  e.preventDefault();
                  navigate('/admin/security-defaults');
                }}
              >
                Manage security defaults
              </Link>
            </Text>
          </div>
          <Text as="p" block size={200} className={s.section}>
            Last changed: {d.lastModifiedDateTime ? new Date(d.lastModifiedDateTime).toLocaleString() : 'never'}
          </Text>
        </>
      )}
    </section>
  );
}
