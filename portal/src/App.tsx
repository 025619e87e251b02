// The portal's frame: a header (product, signed-in admin, sign out) and the page of the current route.
import { Button, Link, MessageBar, MessageBarBody, MessageBarTitle, Text, makeStyles, tokens } from '@fluentui/react-components';
import { signOut, signedInAccount } from './auth';
import { navigate, useRoute } from './router';
import { UsersPage } from './UsersPage';
import { UserPage } from './UserPage';
import { MethodsPolicyPage } from './tenant/MethodsPolicyPage';
import { SecurityDefaultsPage } from './tenant/SecurityDefaultsPage';
import { SettingsPage } from './tenant/SettingsPage';

const NAV: { path: string; label: string; id: string }[] = [
  { path: '/admin/', label: 'Users', id: 'nav-users' },
  { path: '/admin/authentication-methods', label: 'Authentication methods', id: 'nav-authentication-methods' },
  { path: '/admin/security-defaults', label: 'Security defaults', id: 'nav-security-defaults' },
  { path: '/admin/settings', label: 'Settings', id: 'nav-settings' },
];

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
          {NAV.map((n) => (
            <Link
              key={n.path}
              id={n.id}
              className={s.navLink}
              href={n.path}
              aria-current={location.pathname === n.path || (n.path === '/admin/' && route.page === 'user') ? 'page' : undefined}
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
        ) : route.page === 'authMethods' ? (
          <MethodsPolicyPage />
        ) : route.page === 'securityDefaults' ? (
          <SecurityDefaultsPage />
        ) : route.page === 'settings' ? (
          <SettingsPage />
        ) : (
          <UsersPage />
        )}
      </main>
    </>
  );
}
