// The portal's few routes, kept in the address bar: /admin/ (users), /admin/users/{id}, the playbook's
// wizard at /admin/users/{id}/playbook and a playbook run at /admin/playbook/runs/{runId}.
import { useEffect, useState } from 'react';

export type Route = { page: 'users' } | { page: 'user'; id: string } | { page: 'playbook'; id: string } | { page: 'run'; runId: string };

export function parseRoute(pathname: string): Route {
  const m = /^\/admin\/users\/([^/]+)\/?$/.exec(pathname);
  if (m?.[1]) return { page: 'user', id: decodeURIComponent(m[1]) };
  const p = /^\/admin\/users\/([^/]+)\/playbook\/?$/.exec(pathname);
  if (p?.[1]) return { page: 'playbook', id: decodeURIComponent(p[1]) };
  const r = /^\/admin\/playbook\/runs\/([^/]+)\/?$/.exec(pathname);
  if (r?.[1]) return { page: 'run', runId: decodeURIComponent(r[1]) };
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
