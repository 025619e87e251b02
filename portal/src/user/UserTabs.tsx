// A user's pages as Entra's user blade has them: Overview | Authentication methods | Sessions and apps,
// each at its own address; and the header the sub-pages share (back to the users, the user's name, tabs).
import { useQuery } from '@tanstack/react-query';
import { Link, Spinner, Tab, TabList, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { type GraphUser, DETAIL_SELECT, call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { type UserTab, navigate, userPath } from '../router';

const useStyles = makeStyles({
  tabs: { flexWrap: 'wrap', margin: `${tokens.spacingVerticalS} 0 ${tokens.spacingVerticalM}` },
  back: { display: 'inline-block', marginBottom: tokens.spacingVerticalS },
  title: { display: 'block', overflowWrap: 'anywhere' },
});

const TABS: { value: UserTab; label: string; id: string }[] = [
  { value: 'overview', label: 'Overview', id: 'tab-overview' },
  { value: 'authentication-methods', label: 'Authentication methods', id: 'tab-methods' },
  { value: 'sessions', label: 'Sessions and apps', id: 'tab-sessions' },
];

export function UserTabs({ id, current }: { id: string; current: UserTab }) {
  const s = useStyles();
  return (
    <TabList className={s.tabs} size="small" selectedValue={current} aria-label="User pages" onTabSelect={(_, d) => navigate(userPath(id, d.value as UserTab))}>
      {TABS.map((t) => (
        <Tab key={t.value} id={t.id} value={t.value}>
          {t.label}
        </Tab>
      ))}
    </TabList>
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
      <Link
        className={s.back}
        href="/admin/"
        onClick={(e) => {
          e.preventDefault();
          navigate('/admin/');
        }}
      >
        ← All users
      </Link>
      {user.isPending && <Spinner label="Loading the user" />}
      {user.isError && <ErrorBar error={user.error} />}
      <Title2 as="h1" id={titleId} className={s.title}>
        {user.data ? `${user.data.displayName}: ${TABS.find((t) => t.value === current)!.label}` : TABS.find((t) => t.value === current)!.label}
      </Title2>
      <UserTabs id={user.data?.id ?? id} current={current} />
    </>
  );
}
