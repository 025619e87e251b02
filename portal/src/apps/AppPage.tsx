// One app registration, as Entra's blade: a menu of its sections (each its own address) beside the
// section: Overview (client id, object id, tenant id, the endpoints), Authentication, Certificates &
// secrets, API permissions, Expose an API, App roles, Latchkey settings; Delete (after a confirmation).
import { useRef } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Link, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { call } from '../api';
import { authority } from '../auth';
import { ErrorBar } from '../ErrorBar';
import { navigate } from '../router';
import { AppRolesSection } from './AppRolesSection';
import { AuthenticationSection } from './AuthenticationSection';
import { ExposeApiSection } from './ExposeApiSection';
import { type Application, appPath, getApp } from './graph';
import { ConfirmDialog, SETTLE_MS, UPDATE_REASON, useDialog, usePartStyles } from './parts';
import { Reason, byRight, useDirectoryRights } from '../kit/rights';
import { PermissionsSection } from './PermissionsSection';
import { SecretsSection } from './SecretsSection';
import { SettingsSection } from './SettingsSection';
import { BackLink } from '../kit/BackLink';

const SECTIONS: { key: string; label: string }[] = [
  { key: 'overview', label: 'Overview' },
  { key: 'authentication', label: 'Authentication' },
  { key: 'secrets', label: 'Certificates & secrets' },
  { key: 'permissions', label: 'API permissions' },
  { key: 'expose', label: 'Expose an API' },
  { key: 'roles', label: 'App roles' },
  { key: 'settings', label: 'Latchkey settings' },
];

/** The sections whose changes are updates of the application (Certificates & secrets has its own right). */
const UPDATES = ['authentication', 'permissions', 'expose', 'roles', 'settings'];

const useStyles = makeStyles({
  head: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, flexWrap: 'wrap', justifyContent: 'space-between' },
  title: { overflowWrap: 'anywhere' },
  headActions: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, flexWrap: 'wrap' },
  layout: {
    display: 'grid',
    gridTemplateColumns: '200px minmax(0, 1fr)',
    gap: tokens.spacingHorizontalXL,
    marginTop: tokens.spacingVerticalM,
    '@media (max-width: 700px)': { gridTemplateColumns: 'minmax(0, 1fr)' },
  },
  menu: {
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalXS,
    borderRight: `1px solid ${tokens.colorNeutralStroke2}`,
    '@media (max-width: 700px)': { flexDirection: 'row', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalM, borderRight: 'none', borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, paddingBottom: tokens.spacingVerticalS },
  },
  menuLink: { display: 'block', padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}` },
  current: {
    display: 'block',
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    fontWeight: tokens.fontWeightSemibold,
    backgroundColor: tokens.colorNeutralBackground1Selected,
    borderLeft: `3px solid ${tokens.colorBrandStroke1}`,
  },
  props: {
    display: 'grid',
    gridTemplateColumns: 'minmax(160px, max-content) minmax(0, 1fr)',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalS,
    margin: 0,
    '@media (max-width: 600px)': { gridTemplateColumns: 'minmax(0, 1fr)', rowGap: 0 },
  },
  term: { fontWeight: tokens.fontWeightSemibold, '@media (max-width: 600px)': { marginTop: tokens.spacingVerticalS } },
  value: { margin: 0, overflowWrap: 'anywhere' },
  pair: { display: 'contents' },
});

function Props({ rows, id }: { rows: [string, string, string?][]; id: string }) {
  const s = useStyles();
  return (
    <dl className={s.props} id={id}>
      {rows.map(([term, value, valueId]) => (
        <div key={term} className={s.pair}>
          <dt className={s.term}>{term}</dt>
          <dd className={s.value} id={valueId}>
            {value}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Overview({ app }: { app: Application }) {
  const ps = usePartStyles();
  const base = authority();
  const tenantId = new URL(base).pathname.split('/')[1] ?? '';
  const secrets = app.passwordCredentials.length;
  return (
    <>
      <h2 className={ps.h2}>Essentials</h2>
      <Props
        id="essentials"
        rows={[
          ['Display name', app.displayName, 'ovDisplayName'],
          ['Application (client) ID', app.appId, 'ovAppId'],
          ['Object ID', app.id, 'ovObjectId'],
          ['Directory (tenant) ID', tenantId, 'ovTenantId'],
          ['Supported account types', 'My organization only'],
          ['Client credentials', `0 certificate, ${secrets} secret${secrets === 1 ? '' : 's'}`, 'ovCredentials'],
          ['Redirect URIs', `${app.web.redirectUris.length} web, ${app.spa.redirectUris.length} spa, ${app.publicClient.redirectUris.length} public client`, 'ovRedirects'],
          ['Application ID URI', app.identifierUris[0] ?? 'Add an Application ID URI', 'ovIdentifierUri'],
        ]}
      />
      <h2 className={ps.h2}>Endpoints</h2>
      <Props
        id="endpoints"
        rows={[
          ['OAuth 2.0 authorization endpoint (v2)', `${base}/oauth2/v2.0/authorize`, 'epAuthorize'],
          ['OAuth 2.0 token endpoint (v2)', `${base}/oauth2/v2.0/token`, 'epToken'],
          ['OpenID Connect metadata document', `${base}/v2.0/.well-known/openid-configuration`, 'epMetadata'],
          ['Sign-out endpoint', `${base}/oauth2/v2.0/logout`, 'epLogout'],
          ['Microsoft Graph API endpoint', `${location.origin}/v1.0`, 'epGraph'],
        ]}
      />
    </>
  );
}

export default function AppPage({ id, section }: { id: string; section: string }) {
  const s = useStyles();
  const qc = useQueryClient();
  const deleting = useDialog();
  const deleted = useRef(false);
  const q = useQuery({ queryKey: ['app', id], queryFn: () => getApp(id) });
  const app = q.data;
  const rights = useDirectoryRights();
  const mayDelete = rights('deleteApplication');
  const mayUpdate = rights('updateApplication');
  const current = SECTIONS.some((x) => x.key === section) ? section : 'overview';
  const go = (key: string) => navigate(`/admin/apps/${encodeURIComponent(id)}${key === 'overview' ? '' : `/${key}`}`);

  return (
    <section aria-labelledby="appTitle">
      <BackLink to="/admin/apps">App registrations</BackLink>
      {q.isPending && <Spinner label="Loading the application" />}
      {q.isError && <ErrorBar error={q.error} />}
      {app && (
        <>
          <div className={s.head}>
            <Title2 as="h1" id="appTitle" className={s.title}>
              {app.displayName}
            </Title2>
            <div className={s.headActions}>
              <Reason id="deleteAppReason" right={mayDelete} />
              <Button id="deleteApp" {...byRight(mayDelete, 'deleteAppReason')} onClick={() => deleting.show()}>
                Delete
              </Button>
            </div>
          </div>
          <div className={s.layout}>
            <nav aria-label="Sections of this app registration" id="appSections">
              <ul className={s.menu}>
                {SECTIONS.map((x) => (
                  <li key={x.key}>
                    <Link
                      id={`section-${x.key}`}
                      className={x.key === current ? s.current : s.menuLink}
                      href={`/admin/apps/${encodeURIComponent(id)}${x.key === 'overview' ? '' : `/${x.key}`}`}
                      aria-current={x.key === current ? 'page' : undefined}
                      onClick={(e) => {
                        e.preventDefault();
                        go(x.key);
                      }}
                    >
                      {x.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
            <div id="sectionPanel">
              {mayUpdate.reason && UPDATES.includes(current) && (
                <MessageBar intent="warning" id="readOnlyApp">
                  <MessageBarBody>
                    <MessageBarTitle>Read only</MessageBarTitle>
                    <span id={UPDATE_REASON}>{mayUpdate.reason}</span>
                  </MessageBarBody>
                </MessageBar>
              )}
              {current === 'overview' && <Overview app={app} />}
              {current === 'authentication' && <AuthenticationSection app={app} />}
              {current === 'secrets' && <SecretsSection app={app} />}
              {current === 'permissions' && <PermissionsSection app={app} />}
              {current === 'expose' && <ExposeApiSection app={app} />}
              {current === 'roles' && <AppRolesSection app={app} />}
              {current === 'settings' && <SettingsSection app={app} />}
            </div>
          </div>
          {deleting.mounted && (
            <ConfirmDialog
              key={deleting.key}
              {...deleting.props}
              id="deleteAppDialog"
              title={`Delete ${app.displayName}?`}
              text={`The application ${app.displayName} (${app.appId}) is deleted with its secrets and consents: every token, code and grant issued to it ends now.`}
              confirm="Delete"
              onConfirm={async () => {
                await call<void>(appPath(app.id), { method: 'DELETE' });
                await qc.invalidateQueries({ queryKey: ['apps'] });
                deleted.current = true;
              }}
              onExited={() => {
                deleting.props.onExited();
                if (!deleted.current) return;
                setTimeout(() => {
                  qc.removeQueries({ queryKey: ['app', id] });
                  navigate('/admin/apps');
                }, SETTLE_MS);
              }}
            />
          )}
        </>
      )}
    </section>
  );
}
