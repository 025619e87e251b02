// Latchkey settings: what Latchkey adds to Entra's application object, as its directory extension
// properties: require MFA for sign-ins to this app (extension_latchkey_requireMfa) and require PKCE at
// authorization (extension_latchkey_requirePkce).
import { useState } from 'react';
import { Button, Switch, Text } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { type Application, patchApp } from './graph';
import { UPDATE_REASON, usePartStyles, useWrite } from './parts';
import { useDirectoryRight } from '../kit/rights';

export function SettingsSection({ app }: { app: Application }) {
  const s = usePartStyles();
  const [mfa, setMfa] = useState(app.extension_latchkey_requireMfa);
  const [pkce, setPkce] = useState(app.extension_latchkey_requirePkce);
  const [saved, setSaved] = useState(false);
  const w = useWrite([['app', app.id]]);
  const may = useDirectoryRight('updateApplication');
  const changed = mfa !== app.extension_latchkey_requireMfa || pkce !== app.extension_latchkey_requirePkce;
  return (
    <form
      className={s.form}
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        void w.run(() => patchApp(app.id, { extension_latchkey_requireMfa: mfa, extension_latchkey_requirePkce: pkce })).then(setSaved);
      }}
    >
      <h2 className={s.h2}>Latchkey settings</h2>
      <Text as="p" block className={s.muted}>
        Settings Latchkey adds to the application (Graph: extension_latchkey_requireMfa, extension_latchkey_requirePkce).
      </Text>
      {w.error !== undefined && <ErrorBar error={w.error} />}
      <Switch id="requireMfa" checked={mfa} onChange={(_, d) => {
          setMfa(d.checked);
          setSaved(false);
        }} label="Require multifactor authentication to sign in to this app" />
      <Switch id="requirePkce" checked={pkce} onChange={(_, d) => {
          setPkce(d.checked);
          setSaved(false);
        }} label="Require PKCE (code_challenge) in authorization requests" />
      <div className={s.toolbar}>
        <Button type="submit" appearance="primary" id="saveSettings" disabled={!may.allowed} disabledFocusable={may.allowed && (w.busy || !changed)} aria-describedby={may.reason ? UPDATE_REASON : changed ? undefined : 'settingsUnchanged'}>
          Save
        </Button>
        {!changed && !saved && !may.reason && (
          <Text id="settingsUnchanged" className={s.muted}>
            Nothing changed yet.
          </Text>
        )}
        {saved && (
          <Text id="settingsSaved" role="status">
            Saved.
          </Text>
        )}
      </div>
    </form>
  );
}
