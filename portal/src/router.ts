// The portal's few routes, kept in the address bar: /admin/ (users) and /admin/users/{id}.
import { useEffect, useState } from 'react';

export type Route = { page: 'users' } | { page: 'user'; id: string };

export function parseRoute(pathname: string): Route {
  const m = /^\/admin\/users\/([^/]+)\/?$/.exec(pathname);
  if (m?.[1]) return { page: 'user', id: decodeURIComponent(m[1]) };
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
