// The portal's routes, kept in the address bar: /admin/ (users), /admin/users/{id} and its
// /authentication-methods and /sessions pages, the playbook's wizard at /admin/users/{id}/playbook, a
// playbook run at /admin/playbook/runs/{runId}, /admin/sign-ins, /admin/audit, /admin/groups,
// /admin/groups/new, /admin/groups/{id}, /admin/roles, /admin/roles/{id}, /admin/apps (app registrations) and
// /admin/apps/{objectId}[/{section}], and the tenant's pages /admin/authentication-methods,
// /admin/security-defaults and /admin/settings.
import { useEffect, useState } from 'react';

export type UserTab = 'overview' | 'authentication-methods' | 'sessions';
export type Route =
  | { page: 'users' }
  | { page: 'user'; id: string; tab: UserTab }
  | { page: 'playbook'; id: string }
  | { page: 'run'; runId: string }
  | { page: 'signIns' }
  | { page: 'audit' }
  | { page: 'groups' }
  | { page: 'newGroup' }
  | { page: 'group'; id: string }
  | { page: 'roles' }
  | { page: 'role'; id: string }
  | { page: 'apps' }
  | { page: 'app'; id: string; section: string }
  | { page: 'authMethods' }
  | { page: 'securityDefaults' }
  | { page: 'settings' };

const LISTS: Record<string, Route> = {
  'sign-ins': { page: 'signIns' },
  audit: { page: 'audit' },
  groups: { page: 'groups' },
  roles: { page: 'roles' },
  'authentication-methods': { page: 'authMethods' },
  'security-defaults': { page: 'securityDefaults' },
  settings: { page: 'settings' },
};
const ONE: Record<string, 'group' | 'role'> = { groups: 'group', roles: 'role' };

export function parseRoute(pathname: string): Route {
  const u = /^\/admin\/users\/([^/]+)(?:\/(authentication-methods|sessions|playbook))?\/?$/.exec(pathname);
  if (u?.[1]) {
    const id = decodeURIComponent(u[1]);
    return u[2] === 'playbook' ? { page: 'playbook', id } : { page: 'user', id, tab: (u[2] as UserTab | undefined) ?? 'overview' };
  }
  const a = /^\/admin\/apps\/([^/]+)(?:\/([a-z-]+))?\/?$/.exec(pathname);
  if (a?.[1]) return { page: 'app', id: decodeURIComponent(a[1]), section: a[2] ?? 'overview' };
  if (/^\/admin\/apps\/?$/.test(pathname)) return { page: 'apps' };
  const r = /^\/admin\/playbook\/runs\/([^/]+)\/?$/.exec(pathname);
  if (r?.[1]) return { page: 'run', runId: decodeURIComponent(r[1]) };
  const m = /^\/admin\/([a-z-]+)(?:\/([^/]+))?\/?$/.exec(pathname);
  if (m?.[1] === 'groups' && m[2] === 'new') return { page: 'newGroup' };
  if (m?.[1] && m[2] && Object.hasOwn(ONE, m[1])) return { page: ONE[m[1]]!, id: decodeURIComponent(m[2]) };
  if (m?.[1] && !m[2] && Object.hasOwn(LISTS, m[1])) return LISTS[m[1]]!;
  return { page: 'users' };
}

/** The address of a user's page (`tab` other than the overview: a sub-page). */
export function userPath(id: string, tab: UserTab = 'overview'): string {
  return `/admin/users/${encodeURIComponent(id)}${tab === 'overview' ? '' : `/${tab}`}`;
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return route;
}
