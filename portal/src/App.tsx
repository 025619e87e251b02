// The portal's frame: a header (product, signed-in admin, sign out) and the page of the current route.
import { Suspense, lazy } from 'react';
import { Button, Link, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text, makeStyles, tokens } from '@fluentui/react-components';
import { signOut, signedInAccount } from './auth';
import { navigate, useRoute } from './router';
import { UsersPage } from './UsersPage';
import { UserPage } from './UserPage';
import { MethodsBlade } from './user/MethodsBlade';
import { SessionsPage } from './user/SessionsPage';

// the playbook's pages are loaded when first opened
const PlaybookPage = lazy(() => import('./playbook/PlaybookPage'));
const RunPage = lazy(() => import('./playbook/RunPage'));

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
  nav: { flexGrow: 1 },
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
            onClick={(e) => {
              e.preventDefault();
              navigate('/admin/');
            }}
          >
            Users
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
          route.tab === 'authentication-methods' ? (
            <MethodsBlade id={route.id} />
          ) : route.tab === 'sessions' ? (
            <SessionsPage id={route.id} />
          ) : (
            <UserPage id={route.id} />
          )
        ) : route.page === 'playbook' || route.page === 'run' ? (
          <Suspense fallback={<Spinner label="Loading" />}>{route.page === 'playbook' ? <PlaybookPage key={route.id} userId={route.id} /> : <RunPage key={route.runId} runId={route.runId} />}</Suspense>
        ) : (
          <UsersPage />
        )}
      </main>
    </>
  );
}
