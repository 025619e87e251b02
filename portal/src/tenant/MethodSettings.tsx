// Each method configuration's own settings as form fields (the ones Latchkey's Graph accepts, spec §7):
// the draft the form edits, its checks (the server's ranges and the TAP lifetimes against each other), the
// PATCH body it makes, and which field a server refusal naming a property belongs to.
import { Checkbox, Field, Input, Select, Text, Textarea } from '@fluentui/react-components';
import type { ManagedState, MethodConfig } from './api';
import { fieldError, useTenantStyles, wholeNumber } from './common';

export type Draft = Record<string, string | boolean>;
export type Errors = Record<string, string | undefined>;

/** How Entra names the configurations. */
export const METHOD_NAMES: Record<string, string> = {
  Fido2: 'Passkey (FIDO2)',
  MicrosoftAuthenticator: 'Microsoft Authenticator',
  Sms: 'SMS',
  Voice: 'Voice call',
  Email: 'Email OTP',
  TemporaryAccessPass: 'Temporary Access Pass',
  SoftwareOath: 'Software OATH tokens',
  HardwareOath: 'Hardware OATH tokens',
};

/** A property the server names in a refusal → the field showing it. */
export const SERVER_FIELDS: Record<string, string> = {
  state: 'enabled',
  includeTargets: 'include',
  excludeTargets: 'exclude',
  minimumLifetimeInMinutes: 'tapMinimumLifetime',
  maximumLifetimeInMinutes: 'tapMaximumLifetime',
  defaultLifetimeInMinutes: 'tapDefaultLifetime',
  defaultLength: 'tapDefaultLength',
  isUsableOnce: 'tapUsableOnce',
  isSelfServiceRegistrationAllowed: 'fidoSelfService',
  isAttestationEnforced: 'fidoAttestation',
  keyRestrictions: 'fidoAaGuids',
  isSoftwareOathEnabled: 'authOtp',
  featureSettings: 'authAppInfo',
  isOfficePhoneAllowed: 'voiceOffice',
  allowExternalIdToUseEmailOtp: 'emailExternal',
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIFETIME = [10, 43_200] as const;

type Feature = { state?: ManagedState };
const featureState = (c: MethodConfig, key: string): string => ((c.featureSettings as Record<string, Feature> | undefined)?.[key]?.state ?? 'default');

export function draftOf(c: MethodConfig): Draft {
  switch (c.id) {
    case 'TemporaryAccessPass':
      return {
        tapMinimumLifetime: String(c.minimumLifetimeInMinutes),
        tapMaximumLifetime: String(c.maximumLifetimeInMinutes),
        tapDefaultLifetime: String(c.defaultLifetimeInMinutes),
        tapDefaultLength: String(c.defaultLength),
        tapUsableOnce: c.isUsableOnce === true,
      };
    case 'Fido2': {
      const k = (c.keyRestrictions ?? {}) as { isEnforced?: boolean; enforcementType?: string; aaGuids?: string[] };
      return { fidoSelfService: c.isSelfServiceRegistrationAllowed === true, fidoAttestation: c.isAttestationEnforced === true, fidoKeyRestrictions: k.isEnforced === true, fidoEnforcementType: k.enforcementType ?? 'block', fidoAaGuids: (k.aaGuids ?? []).join('\n') };
    }
    case 'MicrosoftAuthenticator':
      return { authOtp: c.isSoftwareOathEnabled === true, authAppInfo: featureState(c, 'displayAppInformationRequiredState'), authLocation: featureState(c, 'displayLocationInformationRequiredState') };
    case 'Voice':
      return { voiceOffice: c.isOfficePhoneAllowed === true };
    case 'Email':
      return { emailExternal: String(c.allowExternalIdToUseEmailOtp ?? 'default') };
    default:
      return {};
  }
}

const aaGuidsOf = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/** The settings' errors, each at its field; empty when the settings may be sent. */
export function checkSettings(id: string, d: Draft): Errors {
  const e: Errors = {};
  if (id === 'TemporaryAccessPass') {
    const min = wholeNumber(d.tapMinimumLifetime as string, ...LIFETIME, 'The minimum lifetime');
    const max = wholeNumber(d.tapMaximumLifetime as string, ...LIFETIME, 'The maximum lifetime');
    const def = wholeNumber(d.tapDefaultLifetime as string, ...LIFETIME, 'The default lifetime');
    const len = wholeNumber(d.tapDefaultLength as string, 8, 48, 'The length');
    if (typeof min === 'string') e.tapMinimumLifetime = min;
    if (typeof max === 'string') e.tapMaximumLifetime = max;
    if (typeof def === 'string') e.tapDefaultLifetime = def;
    if (typeof len === 'string') e.tapDefaultLength = len;
    if (typeof min === 'number' && typeof max === 'number' && min > max) e.tapMinimumLifetime = `The minimum lifetime (${min} minutes) must not exceed the maximum lifetime (${max} minutes).`;
    else if (typeof min === 'number' && typeof max === 'number' && typeof def === 'number' && (def < min || def > max)) e.tapDefaultLifetime = `The default lifetime must lie between the minimum (${min}) and the maximum (${max}) lifetime.`;
  }
  if (id === 'Fido2') {
    const ids = aaGuidsOf(d.fidoAaGuids as string);
    const bad = ids.find((g) => !GUID.test(g));
    if (bad) e.fidoAaGuids = `“${bad.slice(0, 40)}” is not an AAGUID (a GUID such as cb69481e-8ff7-4039-93ec-0a2729a154a8).`;
    else if (ids.length > 100) e.fidoAaGuids = 'At most 100 AAGUIDs.';
  }
  return e;
}

/** The settings part of the configuration's PATCH body (call after checkSettings found nothing). */
export function settingsBody(id: string, d: Draft): Record<string, unknown> {
  switch (id) {
    case 'TemporaryAccessPass':
      return { minimumLifetimeInMinutes: Number(d.tapMinimumLifetime), maximumLifetimeInMinutes: Number(d.tapMaximumLifetime), defaultLifetimeInMinutes: Number(d.tapDefaultLifetime), defaultLength: Number(d.tapDefaultLength), isUsableOnce: d.tapUsableOnce };
    case 'Fido2':
      return { isSelfServiceRegistrationAllowed: d.fidoSelfService, isAttestationEnforced: d.fidoAttestation, keyRestrictions: { isEnforced: d.fidoKeyRestrictions, enforcementType: d.fidoEnforcementType, aaGuids: aaGuidsOf(d.fidoAaGuids as string) } };
    case 'MicrosoftAuthenticator':
      return { isSoftwareOathEnabled: d.authOtp, featureSettings: { displayAppInformationRequiredState: { state: d.authAppInfo }, displayLocationInformationRequiredState: { state: d.authLocation } } };
    case 'Voice':
      return { isOfficePhoneAllowed: d.voiceOffice };
    case 'Email':
      return { allowExternalIdToUseEmailOtp: d.emailExternal };
    default:
      return {};
  }
}

function ManagedSelect(props: { id: string; label: string; value: string; disabled: boolean; error?: string; onChange: (v: string) => void }) {
  return (
    <Field label={props.label} {...fieldError(props.id, props.error)}>
      <Select id={props.id} value={props.value} disabled={props.disabled} onChange={(_, d) => props.onChange(d.value)}>
        <option value="default">Microsoft managed</option>
        <option value="enabled">Enabled</option>
        <option value="disabled">Disabled</option>
      </Select>
    </Field>
  );
}

export function MethodSettingsFields(props: { id: string; draft: Draft; set: (field: string, v: string | boolean) => void; errors: Errors; disabled: boolean }) {
  const s = useTenantStyles();
  const { draft: d, set, errors: e, disabled } = props;
  const text = (field: string, label: string, hint: string) => (
    <Field label={label} hint={hint} {...fieldError(field, e[field])}>
      <Input id={field} inputMode="numeric" value={d[field] as string} disabled={disabled} onChange={(_, v) => set(field, v.value)} />
    </Field>
  );
  const check = (field: string, label: string) => (
    <Field {...fieldError(field, e[field])}>
      <Checkbox id={field} label={label} checked={d[field] as boolean} disabled={disabled} onChange={(_, v) => set(field, v.checked === true)} />
    </Field>
  );
  switch (props.id) {
    case 'TemporaryAccessPass':
      return (
        <div className={s.form}>
          {text('tapMinimumLifetime', 'Minimum lifetime (minutes)', '10 minutes to 30 days (43,200 minutes).')}
          {text('tapMaximumLifetime', 'Maximum lifetime (minutes)', '10 minutes to 30 days (43,200 minutes).')}
          {text('tapDefaultLifetime', 'Default lifetime (minutes)', 'Between the minimum and the maximum.')}
          {text('tapDefaultLength', 'Length (characters)', '8 to 48 characters.')}
          {check('tapUsableOnce', 'One-time use')}
        </div>
      );
    case 'Fido2':
      return (
        <div className={s.form}>
          {check('fidoSelfService', 'Allow self-service set up')}
          {check('fidoAttestation', 'Enforce attestation')}
          {check('fidoKeyRestrictions', 'Enforce key restrictions')}
          <Field label="Restrict specific keys" {...fieldError('fidoEnforcementType', e.fidoEnforcementType)}>
            <Select id="fidoEnforcementType" value={d.fidoEnforcementType as string} disabled={disabled} onChange={(_, v) => set('fidoEnforcementType', v.value)}>
              <option value="allow">Allow</option>
              <option value="block">Block</option>
            </Select>
          </Field>
          <Field label="AAGUIDs of the keys" hint="One AAGUID a line." {...fieldError('fidoAaGuids', e.fidoAaGuids)}>
            <Textarea id="fidoAaGuids" value={d.fidoAaGuids as string} disabled={disabled} onChange={(_, v) => set('fidoAaGuids', v.value)} resize="vertical" />
          </Field>
        </div>
      );
    case 'MicrosoftAuthenticator':
      return (
        <div className={s.form}>
          {check('authOtp', 'Allow use of Microsoft Authenticator OTP')}
          <ManagedSelect id="authAppInfo" label="Show application name in push and passwordless notifications" value={d.authAppInfo as string} disabled={disabled} error={e.authAppInfo} onChange={(v) => set('authAppInfo', v)} />
          <ManagedSelect id="authLocation" label="Show geographic location in push and passwordless notifications" value={d.authLocation as string} disabled={disabled} error={e.authLocation} onChange={(v) => set('authLocation', v)} />
        </div>
      );
    case 'Voice':
      return <div className={s.form}>{check('voiceOffice', 'Allow office phone')}</div>;
    case 'Email':
      return (
        <div className={s.form}>
          <ManagedSelect id="emailExternal" label="Allow external users to use email OTP" value={d.emailExternal as string} disabled={disabled} error={e.emailExternal} onChange={(v) => set('emailExternal', v)} />
        </div>
      );
    default:
      return <Text as="p">This method has no further settings.</Text>;
  }
}
