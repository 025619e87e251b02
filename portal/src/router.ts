// The portal's routes, kept in the address bar: /admin/ (users), /admin/users/{id}, /admin/sign-ins,
// /admin/audit, /admin/groups, /admin/groups/new, /admin/groups/{id}, /admin/roles and /admin/roles/{id}.
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'users' }
  | { page: 'user'; id: string }
  | { page: 'signIns' }
  | { page: 'audit' }
  | { page: 'groups' }
  | { page: 'newGroup' }
  | { page: 'group'; id: string }
  | { page: 'roles' }
  | { page: 'role'; id: string };

const LISTS: Record<string, Route> = { 'sign-ins': { page: 'signIns' }, audit: { page: 'audit' }, groups: { page: 'groups' }, roles: { page: 'roles' } };
const ONE: Record<string, 'user' | 'group' | 'role'> = { users: 'user', groups: 'group', roles: 'role' };

export function parseRoute(pathname: string): Route {
  const m = /^\/admin\/([a-z-]+)(?:\/([^/]+))?\/?$/.exec(pathname);
  if (m?.[1] === 'groups' && m[2] === 'new') return { page: 'newGroup' };
  if (m?.[1] && m[2] && ONE[m[1]]) return { page: ONE[m[1]]!, id: decodeURIComponent(m[2]) };
  if (m?.[1] && !m[2] && LISTS[m[1]]) return LISTS[m[1]]!;
  return { page: 'users' };
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
