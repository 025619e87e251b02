// The portal's routes, kept in the address bar: /admin/ (users), /admin/users/{id}, and the tenant's pages
// /admin/authentication-methods, /admin/security-defaults and /admin/settings.
import { useEffect, useState } from 'react';

export type Route = { page: 'users' } | { page: 'user'; id: string } | { page: 'authMethods' } | { page: 'securityDefaults' } | { page: 'settings' };

const TENANT_PAGES: Record<string, Route> = {
  'authentication-methods': { page: 'authMethods' },
  'security-defaults': { page: 'securityDefaults' },
  settings: { page: 'settings' },
};

export function parseRoute(pathname: string): Route {
  const m = /^\/admin\/users\/([^/]+)\/?$/.exec(pathname);
  if (m?.[1]) return { page: 'user', id: decodeURIComponent(m[1]) };
  const t = /^\/admin\/([a-z-]+)\/?$/.exec(pathname);
  if (t?.[1] && Object.hasOwn(TENANT_PAGES, t[1])) return TENANT_PAGES[t[1]]!;
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
