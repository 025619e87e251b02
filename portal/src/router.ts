// The portal's routes, kept in the address bar: /admin/ (users), /admin/users/{id}, /admin/apps (app
// registrations) and /admin/apps/{objectId}[/{section}].
import { useEffect, useState } from 'react';

export type Route = { page: 'users' } | { page: 'user'; id: string } | { page: 'apps' } | { page: 'app'; id: string; section: string };

export function parseRoute(pathname: string): Route {
  const m = /^\/admin\/users\/([^/]+)\/?$/.exec(pathname);
  if (m?.[1]) return { page: 'user', id: decodeURIComponent(m[1]) };
  const a = /^\/admin\/apps\/([^/]+)(?:\/([a-z-]+))?\/?$/.exec(pathname);
  if (a?.[1]) return { page: 'app', id: decodeURIComponent(a[1]), section: a[2] ?? 'overview' };
  if (/^\/admin\/apps\/?$/.test(pathname)) return { page: 'apps' };
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
