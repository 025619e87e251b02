// Security defaults (Graph's identitySecurityDefaultsEnforcementPolicy, spec D18): Entra's explanation,
// the state, and a switch that asks for confirmation (shown below it) before it changes anything.
import { useEffect, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { SECURITY_DEFAULTS_PATH, type SecurityDefaults, useTenantRight } from './api';
import { ReadOnlyBar, RefusalBar, SavedBar, useTenantStyles } from './common';

const useStyles = makeStyles({
  list: { margin: `${tokens.spacingVerticalS} 0`, paddingLeft: tokens.spacingHorizontalXL, maxWidth: '760px' },
  state: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, flexWrap: 'wrap', margin: `${tokens.spacingVerticalM} 0` },
  confirm: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, maxWidth: '640px', marginBottom: tokens.spacingVerticalM },
});

/** What security defaults do, in Entra's words, and what Latchkey enforces of it. */
const ENTRA_LIST = [
  'Requiring all users to register for multifactor authentication.',
  'Requiring administrators to do multifactor authentication.',
  'Requiring users to do multifactor authentication when necessary.',
  'Blocking legacy authentication protocols.',
  'Protecting privileged activities like access to the admin portal.',
];

export function SecurityDefaultsPage() {
  const s = useTenantStyles();
  const own = useStyles();
  const qc = useQueryClient();
  const policy = useQuery({ queryKey: ['securityDefaults'], queryFn: () => call<SecurityDefaults>(SECURITY_DEFAULTS_PATH) });
  const right = useTenantRight('updateSecurityDefaults');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<unknown>();
  const [saved, setSaved] = useState<string | undefined>();
  const p = policy.data;
  const confirmRef = useRef<HTMLButtonElement>(null);
  // the confirmation takes the focus when it shows
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  async function apply(isEnabled: boolean) {
    setBusy(true);
    setRefusal(undefined);
    try {
      await call(SECURITY_DEFAULTS_PATH, { method: 'PATCH', body: { isEnabled } });
      await qc.invalidateQueries({ queryKey: ['securityDefaults'] });
      await qc.invalidateQueries({ queryKey: ['tenantSettings'] });
      setSaved(`Security defaults are now ${isEnabled ? 'enabled' : 'disabled'}.`);
      setConfirming(false);
    } catch (e) {
      setRefusal(e);
    } finally {
      setBusy(false);
    }
  }

  const next = p ? !p.isEnabled : false;
  return (
    <section aria-labelledby="securityDefaultsTitle">
      <Title2 as="h1" id="securityDefaultsTitle">
        Security defaults
      </Title2>
      {(policy.isPending || right.pending) && <Spinner label="Loading security defaults" />}
      {policy.isError && <ErrorBar error={policy.error} />}
      {right.error !== undefined && <ErrorBar error={right.error} />}
      {p && !right.pending && !right.allowed && <ReadOnlyBar id="securityDefaultsReadOnly" reason={right.reason} />}
      {saved && <SavedBar id="securityDefaultsSaved" text={saved} />}
      {!confirming && <RefusalBar error={refusal} />}
      {p && (
        <>
          <Text as="p" block className={s.intro} id="securityDefaultsDescription">
            {p.description}
          </Text>
          <Text as="p" block className={s.intro}>
            Security defaults make it easier to help protect your organization from identity-related attacks with preconfigured security settings:
          </Text>
          <ul className={own.list}>
            {ENTRA_LIST.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
          <Text as="p" block className={s.intro}>
            In Latchkey, while security defaults are enabled every interactive sign-in asks for multifactor authentication, and a user with no multifactor method registers one right after the password, with no way to skip it.
          </Text>
          <div className={own.state}>
            <Text weight="semibold">Security defaults</Text>
            <Badge id="securityDefaultsState" appearance="tint" color={p.isEnabled ? 'success' : 'warning'} data-enabled={String(p.isEnabled)}>
              {p.isEnabled ? 'Enabled (recommended)' : 'Disabled (not recommended)'}
            </Badge>
            {!right.pending && (
              <Button id="switchSecurityDefaults" appearance="primary" disabled={!right.allowed || busy || confirming} aria-describedby={right.allowed ? undefined : 'securityDefaultsReadOnly'} onClick={() => {
                  setSaved(undefined);
                  setConfirming(true);
                }}>
                {p.isEnabled ? 'Disable security defaults' : 'Enable security defaults'}
              </Button>
            )}
          </div>
        </>
      )}
      {p && confirming && (
        <div role="group" aria-labelledby="confirmSecurityDefaultsTitle" className={own.confirm} id="confirmSecurityDefaultsPanel">
          <MessageBar intent="warning" layout="multiline">
            <MessageBarBody>
              <MessageBarTitle id="confirmSecurityDefaultsTitle">{next ? 'Enable security defaults?' : 'Disable security defaults?'}</MessageBarTitle>
              <span id="confirmSecurityDefaultsText">
                {next
                  ? 'Every user will be asked for multifactor authentication at their next interactive sign-in, and users without a multifactor method will have to register one.'
                  : 'Your organization will no longer be protected by security defaults: users will no longer be required to register for or do multifactor authentication, unless other settings require it.'}
              </span>
            </MessageBarBody>
          </MessageBar>
          <RefusalBar error={refusal} />
          <div className={s.buttons}>
            <Button id="confirmSecurityDefaults" ref={confirmRef} appearance="primary" disabledFocusable={busy} onClick={() => void apply(next)}>
              {next ? 'Enable' : 'Disable'}
            </Button>
            <Button id="cancelSecurityDefaults" appearance="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
          </div>
        </div>
      )}
    </section>
  );
}
