// The portal's frame: a header (product, signed-in admin, sign out) and the page of the current route.
import { Suspense, lazy, useEffect, useRef } from 'react';
import { Button, Link, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { signOut, signedInAccount } from './auth';
import { PageErrorBoundary } from './kit/PageErrorBoundary';
import { navigate, useRoute } from './router';
import { UsersPage } from './UsersPage';
import { UserPage } from './UserPage';
import { MethodsBlade } from './user/MethodsBlade';
import { SessionsPage } from './user/SessionsPage';
import { SignInsPage } from './logs/SignInsPage';
import { AuditPage } from './logs/AuditPage';
import { GroupsPage } from './groups/GroupsPage';
import { GroupPage } from './groups/GroupPage';
import { NewGroupPage } from './groups/NewGroupPage';
import { RolesPage } from './roles/RolesPage';
import { RolePage } from './roles/RolePage';
import { MethodsPolicyPage } from './tenant/MethodsPolicyPage';
import { SecurityDefaultsPage } from './tenant/SecurityDefaultsPage';
import { SettingsPage } from './tenant/SettingsPage';

// the playbook's pages are loaded when first opened
const PlaybookPage = lazy(() => import('./playbook/PlaybookPage'));
const RunPage = lazy(() => import('./playbook/RunPage'));

/** The header's entries: path, label, and the pages each one is current for. */
const NAV: { path: string; label: string; id: string; pages: string[] }[] = [
  { path: '/admin/', label: 'Users', id: 'nav-users', pages: ['users', 'user', 'playbook', 'run'] },
  { path: '/admin/groups', label: 'Groups', id: 'nav-groups', pages: ['groups', 'group', 'newGroup'] },
  { path: '/admin/roles', label: 'Roles', id: 'nav-roles', pages: ['roles', 'role'] },
  { path: '/admin/apps', label: 'App registrations', id: 'nav-apps', pages: ['apps', 'app'] },
  { path: '/admin/sign-ins', label: 'Sign-in logs', id: 'nav-signIns', pages: ['signIns'] },
  { path: '/admin/audit', label: 'Audit logs', id: 'nav-audit', pages: ['audit'] },
  { path: '/admin/authentication-methods', label: 'Authentication methods', id: 'nav-authentication-methods', pages: ['authMethods'] },
  { path: '/admin/security-defaults', label: 'Security defaults', id: 'nav-security-defaults', pages: ['securityDefaults'] },
  { path: '/admin/settings', label: 'Settings', id: 'nav-settings', pages: ['settings'] },
];

const AppsPage = lazy(() => import('./apps/AppsPage'));
const AppPage = lazy(() => import('./apps/AppPage'));

const useStyles = makeStyles({
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalM,
    flexWrap: 'wrap',
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  product: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400, color: tokens.colorNeutralForegroundOnBrand },
  nav: { flexGrow: 1, display: 'flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalXS },
  navLink: { color: tokens.colorNeutralForegroundOnBrand, ':hover': { color: tokens.colorNeutralForegroundOnBrand } },
  navCurrent: { fontWeight: tokens.fontWeightSemibold, textDecorationLine: 'underline' },
  account: { color: tokens.colorNeutralForegroundOnBrand, overflowWrap: 'anywhere', '@media (max-width: 600px)': { display: 'none' } },
  main: { padding: tokens.spacingHorizontalL, maxWidth: '1100px', margin: '0 auto', boxSizing: 'border-box', ':focus': { outlineStyle: 'none' } },
});

export function App({ startError }: { startError?: string }) {
  const s = useStyles();
  const route = useRoute();
  // a new page takes the focus (where the eye goes), also away from a dialog that led to it
  const mainRef = useRef<HTMLElement>(null);
  const shown = useRef<string | undefined>(undefined);
  const where = `${route.page}/${'id' in route ? route.id : 'runId' in route ? route.runId : ''}/${'tab' in route ? route.tab : ''}`;
  useEffect(() => {
    const main = mainRef.current;
    if (shown.current !== undefined && shown.current !== where && main && !main.contains(document.activeElement)) main.focus();
    shown.current = where;
  }, [where]);
  const me = signedInAccount();
  return (
    <>
      <header className={s.header}>
        <span className={s.product}>Latchkey admin</span>
        <nav className={s.nav} aria-label="Portal">
          {NAV.map((n) => (
            <Link
              key={n.id}
              id={n.id}
              className={mergeClasses(s.navLink, n.pages.includes(route.page) && s.navCurrent)}
              aria-current={n.pages.includes(route.page) ? 'page' : undefined}
              href={n.path}
              onClick={(e) => {
                e.preventDefault();
                navigate(n.path);
              }}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        {me && (
          <Text className={s.account} id="signedInUser">
            {me.upn}
          </Text>
        )}
        {me && (
          <Button appearance="secondary" size="small" onClick={signOut} id="signOut">
            Sign out
          </Button>
        )}
      </header>
      <main className={s.main} ref={mainRef} tabIndex={-1}>
        <PageErrorBoundary key={where}>
          {startError ? (
            <MessageBar intent="error">
              <MessageBarBody>
                <MessageBarTitle>The portal could not start</MessageBarTitle>
                {startError}
              </MessageBarBody>
            </MessageBar>
          ) : route.page === 'user' ? (
            route.tab === 'authentication-methods' ? (
              <MethodsBlade id={route.id} />
            ) : route.tab === 'sessions' ? (
              <SessionsPage id={route.id} />
            ) : (
              <UserPage id={route.id} />
            )
          ) : route.page === 'playbook' || route.page === 'run' ? (
            <Suspense fallback={<Spinner label="Loading" />}>{route.page === 'playbook' ? <PlaybookPage key={route.id} userId={route.id} /> : <RunPage key={route.runId} runId={route.runId} />}</Suspense>
          ) : route.page === 'signIns' ? (
            <SignInsPage />
          ) : route.page === 'audit' ? (
            <AuditPage />
          ) : route.page === 'groups' ? (
            <GroupsPage />
          ) : route.page === 'newGroup' ? (
            <NewGroupPage />
          ) : route.page === 'group' ? (
            <GroupPage key={route.id} id={route.id} />
          ) : route.page === 'roles' ? (
            <RolesPage />
          ) : route.page === 'role' ? (
            <RolePage key={route.id} id={route.id} />
          ) : route.page === 'authMethods' ? (
            <MethodsPolicyPage />
          ) : route.page === 'securityDefaults' ? (
            <SecurityDefaultsPage />
          ) : route.page === 'settings' ? (
            <SettingsPage />
          ) : route.page === 'apps' || route.page === 'app' ? (
            <Suspense fallback={<Spinner label="Loading" />}>{route.page === 'apps' ? <AppsPage /> : <AppPage id={route.id} section={route.section} />}</Suspense>
          ) : (
            <UsersPage />
          )}
        </PageErrorBoundary>
      </main>
    </>
  );
}
