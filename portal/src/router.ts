// The portal's routes, kept in the address bar: /admin/ (users), /admin/users/{id} and its
// /authentication-methods and /sessions pages, the playbook's wizard at /admin/users/{id}/playbook and a
// playbook run at /admin/playbook/runs/{runId}.
import { useEffect, useState } from 'react';

export type UserTab = 'overview' | 'authentication-methods' | 'sessions';
export type Route = { page: 'users' } | { page: 'user'; id: string; tab: UserTab } | { page: 'playbook'; id: string } | { page: 'run'; runId: string };

export function parseRoute(pathname: string): Route {
  const m = /^\/admin\/users\/([^/]+)(?:\/(authentication-methods|sessions))?\/?$/.exec(pathname);
  if (m?.[1]) return { page: 'user', id: decodeURIComponent(m[1]), tab: (m[2] as UserTab | undefined) ?? 'overview' };
  const p = /^\/admin\/users\/([^/]+)\/playbook\/?$/.exec(pathname);
  if (p?.[1]) return { page: 'playbook', id: decodeURIComponent(p[1]) };
  const r = /^\/admin\/playbook\/runs\/([^/]+)\/?$/.exec(pathname);
  if (r?.[1]) return { page: 'run', runId: decodeURIComponent(r[1]) };
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
