// A user's pages as Entra's user blade has them: Overview | Authentication methods | Sessions and apps,
// each at its own address; and the header the sub-pages share (back to the users, the user's name, tabs).
import { useQuery } from '@tanstack/react-query';
import { Link, Spinner, Title2, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { type GraphUser, DETAIL_SELECT, call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { type UserTab, navigate, userPath } from '../router';
import { BackLink } from '../kit/BackLink';

const useStyles = makeStyles({
  tabs: {
    display: 'flex',
    flexWrap: 'wrap',
    columnGap: tokens.spacingHorizontalXL,
    rowGap: tokens.spacingVerticalXS,
    margin: `${tokens.spacingVerticalS} 0 ${tokens.spacingVerticalM}`,
    borderBottom: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  tab: { padding: `${tokens.spacingVerticalS} 0`, color: tokens.colorNeutralForeground2, borderBottom: `${tokens.strokeWidthThicker} solid transparent`, ':hover': { color: tokens.colorNeutralForeground1, textDecorationLine: 'none' } },
  current: { color: tokens.colorNeutralForeground1, fontWeight: tokens.fontWeightSemibold, borderBottomColor: tokens.colorCompoundBrandStroke },
  title: { display: 'block', overflowWrap: 'anywhere' },
});

const TABS: { value: UserTab; label: string; id: string }[] = [
  { value: 'overview', label: 'Overview', id: 'tab-overview' },
  { value: 'authentication-methods', label: 'Authentication methods', id: 'tab-methods' },
  { value: 'sessions', label: 'Sessions and apps', id: 'tab-sessions' },
];

/** Links, not ARIA tabs: each is a page with its own address (aria-current marks the one shown). */
export function UserTabs({ id, current }: { id: string; current: UserTab }) {
  const s = useStyles();
  return (
    <nav className={s.tabs} aria-label="User pages">
      {TABS.map((t) => (
        <Link
          key={t.value}
          id={t.id}
          href={userPath(id, t.value)}
          aria-current={t.value === current ? 'page' : undefined}
          className={mergeClasses(s.tab, t.value === current && s.current)}
          onClick={(e) => {
            e.preventDefault();
            navigate(userPath(id, t.value));
          }}
        >
          {t.label}
        </Link>
      ))}
    </nav>
  );
}

/** The user as the overview reads it (the same query, so switching tabs reads it once). */
export function useUser(id: string) {
  return useQuery({ queryKey: ['user', id], queryFn: () => call<GraphUser>(`/v1.0/users/${encodeURIComponent(id)}?$select=${DETAIL_SELECT}`) });
}

/** Back to the users, the user's name as the page's heading, the tabs. */
export function UserHeader({ id, current, titleId }: { id: string; current: UserTab; titleId: string }) {
  const s = useStyles();
  const user = useUser(id);
  return (
    <>
      <BackLink to="/admin/">All users</BackLink>
      {user.isPending && <Spinner label="Loading the user" />}
      {user.isError && <ErrorBar error={user.error} />}
      <Title2 as="h1" id={titleId} className={s.title}>
        {user.data ? `${user.data.displayName}: ${TABS.find((t) => t.value === current)!.label}` : TABS.find((t) => t.value === current)!.label}
      </Title2>
      <UserTabs id={user.data?.id ?? id} current={current} />
    </>
  );
}
