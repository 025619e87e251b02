// The portal's frame: a header (product, signed-in admin, sign out) and the page of the current route.
// The app registrations pages are loaded when first opened.
import { Suspense, lazy } from 'react';
import { Button, Spinner, Link, MessageBar, MessageBarBody, MessageBarTitle, Text, makeStyles, tokens } from '@fluentui/react-components';
import { signOut, signedInAccount } from './auth';
import { navigate, useRoute } from './router';
import { UsersPage } from './UsersPage';
import { UserPage } from './UserPage';

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
  nav: { flexGrow: 1, display: 'flex', gap: tokens.spacingHorizontalL, flexWrap: 'wrap' },
  navLink: { color: tokens.colorNeutralForegroundOnBrand, ':hover': { color: tokens.colorNeutralForegroundOnBrand } },
  account: { color: tokens.colorNeutralForegroundOnBrand, overflowWrap: 'anywhere', '@media (max-width: 600px)': { display: 'none' } },
  main: { padding: tokens.spacingHorizontalL, maxWidth: '1100px', margin: '0 auto', boxSizing: 'border-box' },
});

export function App({ startError }: { startError?: string }) {
  const s = useStyles();
  const route = useRoute();
  const me = signedInAccount();
  return (
    <>
      <header className={s.header}>
        <span className={s.product}>Latchkey admin</span>
        <nav className={s.nav} aria-label="Portal">
          <Link
            className={s.navLink}
            href="/admin/"
            id="navUsers"
            aria-current={route.page === 'users' || route.page === 'user' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate('/admin/');
            }}
          >
            Users
          </Link>
          <Link
            className={s.navLink}
            href="/admin/apps"
            id="navApps"
            aria-current={route.page === 'apps' || route.page === 'app' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate('/admin/apps');
            }}
          >
            App registrations
          </Link>
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
      <main className={s.main}>
        {startError ? (
          <MessageBar intent="error">
            <MessageBarBody>
              <MessageBarTitle>The portal could not start</MessageBarTitle>
              {startError}
            </MessageBarBody>
          </MessageBar>
        ) : route.page === 'user' ? (
          <UserPage id={route.id} />
        ) : route.page === 'apps' || route.page === 'app' ? (
          <Suspense fallback={<Spinner label="Loading" />}>{route.page === 'apps' ? <AppsPage /> : <AppPage id={route.id} section={route.section} />}</Suspense>
        ) : (
          <UsersPage />
        )}
      </main>
    </>
  );
}
