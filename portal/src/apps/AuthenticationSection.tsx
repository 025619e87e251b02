// Authentication: the redirect URIs of each platform (Web, Single-page application, Mobile and desktop),
// each added or removed at once; the front-channel logout URL, the back-channel logout URL and "Allow
// public client flows", saved together.
import { useState } from 'react';
import { Button, Field, Input, Switch, Table, TableBody, TableCell, TableRow, Text } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { type Application, PLATFORM_LABEL, type Platform, patchApp, redirectUriProblem, urlProblem } from './graph';
import { fieldMessage, UPDATE_REASON, usePartStyles, useWrite } from './parts';
import { byRight, useDirectoryRight } from '../kit/rights';

const HINT: Record<Platform, string> = {
  web: 'Server-side apps that keep a client secret (HTTPS, or http://localhost).',
  spa: 'Browser apps using the authorization code flow with PKCE (HTTPS, or http://localhost).',
  publicClient: 'Mobile and desktop apps, and command-line tools (http://localhost or a custom scheme such as myapp://auth).',
};

function PlatformUris({ app, platform }: { app: Application; platform: Platform }) {
  const s = usePartStyles();
  const uris = app[platform].redirectUris;
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState<string>();
  const w = useWrite([['app', app.id]]);
  const may = useDirectoryRight('updateApplication');

  async function add() {
    const p = redirectUriProblem(draft, platform, uris);
    setProblem(p);
    if (p) return;
    if (await w.run(() => patchApp(app.id, { [platform]: { redirectUris: [...uris, draft.trim()] } }))) setDraft('');
  }

  return (
    <div id={`platform-${platform}`}>
      <h3 className={s.h2}>{PLATFORM_LABEL[platform]}</h3>
      <Text as="p" block className={s.muted}>
        {HINT[platform]}
      </Text>
      {w.error !== undefined && <ErrorBar error={w.error} />}
      {uris.length > 0 ? (
        <Table size="small" aria-label={`${PLATFORM_LABEL[platform]} redirect URIs`} id={`uris-${platform}`}>
          <TableBody>
            {uris.map((u, i) => (
              <TableRow key={u} data-uri={u}>
                <TableCell className={s.mono}>{u}</TableCell>
                <TableCell className={s.actionCell}>
                  <Button size="small" id={`remove-${platform}-${i}`} disabledFocusable={w.busy} {...byRight(may, UPDATE_REASON)} aria-label={`Remove ${u}`} onClick={() => void w.run(() => patchApp(app.id, { [platform]: { redirectUris: uris.filter((x) => x !== u) } }))}>
                    Remove
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Text as="p" block>
          No redirect URI for this platform.
        </Text>
      )}
      <form
        className={s.row}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <Field label={`Add a ${PLATFORM_LABEL[platform]} redirect URI`} className={s.grow} {...fieldMessage(`add-${platform}-error`, problem)}>
          <Input id={`add-${platform}`} value={draft} onChange={(_, d) => setDraft(d.value)} />
        </Field>
        <Button type="submit" id={`add-${platform}-button`} disabledFocusable={w.busy} {...byRight(may, UPDATE_REASON)}>
          Add URI
        </Button>
      </form>
    </div>
  );
}

function LogoutAndFlows({ app }: { app: Application }) {
  const s = usePartStyles();
  const [front, setFront] = useState(app.web.logoutUrl ?? '');
  const [back, setBack] = useState(app.extension_latchkey_backchannelLogoutUri ?? '');
  const [pub, setPub] = useState(app.isFallbackPublicClient);
  const [problems, setProblems] = useState<{ front?: string; back?: string }>({});
  const [saved, setSaved] = useState(false);
  const w = useWrite([['app', app.id]]);
  const may = useDirectoryRight('updateApplication');

  async function save() {
    const p = { front: urlProblem(front), back: urlProblem(back) };
    setProblems(p);
    setSaved(false);
    if (p.front || p.back) return;
    const ok = await w.run(() =>
      patchApp(app.id, { web: { logoutUrl: front.trim() || null }, extension_latchkey_backchannelLogoutUri: back.trim() || null, isFallbackPublicClient: pub }),
    );
    setSaved(ok);
  }

  return (
    <form
      className={s.form}
      noValidate
      id="logoutForm"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3 className={s.h2}>Sign-out and public client flows</h3>
      {w.error !== undefined && <ErrorBar error={w.error} />}
      <Field label="Front-channel logout URL" hint="Where Latchkey sends the browser to clear the app's session at sign-out." {...fieldMessage('frontLogoutError', problems.front)}>
        <Input id="frontLogout" placeholder="e.g. https://example.com/logout" value={front} onChange={(_, d) => setFront(d.value)} />
      </Field>
      <Field label="Back-channel logout URL" hint="Where Latchkey posts a logout token when a session of the app ends." {...fieldMessage('backLogoutError', problems.back)}>
        <Input id="backLogout" placeholder="e.g. https://example.com/backchannel-logout" value={back} onChange={(_, d) => setBack(d.value)} />
      </Field>
      <Switch id="allowPublicClient" checked={pub} onChange={(_, d) => setPub(d.checked)} label="Allow public client flows (device code without a secret)" />
      <div className={s.toolbar}>
        <Button type="submit" appearance="primary" id="saveLogout" disabledFocusable={w.busy} {...byRight(may, UPDATE_REASON)}>
          Save
        </Button>
        {saved && (
          <Text id="logoutSaved" role="status">
            Saved.
          </Text>
        )}
      </div>
    </form>
  );
}

export function AuthenticationSection({ app }: { app: Application }) {
  const s = usePartStyles();
  return (
    <>
      <h2 className={s.h2}>Platform configurations</h2>
      {(['web', 'spa', 'publicClient'] as const).map((p) => (
        <PlatformUris key={p} app={app} platform={p} />
      ))}
      <LogoutAndFlows app={app} />
    </>
  );
}
