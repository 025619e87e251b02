// A user's Sessions and apps (spec D25): the live browser sessions and refresh-token grants, each with its
// device, app, IP address and last use, paged by the server's keyset (@odata.nextLink; earlier pages
// remembered to go back). "End" ends that one through the preview/apply panel (endSession, endGrant).
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  Button,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title3,
  makeStyles,
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import { type ActionInfo, type ActionsDoc, call, sameOriginPath } from '../api';
import { ActionDialog } from '../ActionDialog';
import { ErrorBar } from '../ErrorBar';
import { navigate } from '../router';
import { UserHeader, useUser } from './UserTabs';

/** Rows a page: a session's row is tall (device, apps), so fewer than the users list. */
export const SESSIONS_PAGE_SIZE = 5;

const useStyles = makeStyles({
  section: { marginTop: tokens.spacingVerticalXL },
  h: { display: 'block', marginBottom: tokens.spacingVerticalS },
  cell: { overflowWrap: 'anywhere' },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
  pager: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, marginTop: tokens.spacingVerticalM },
  note: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200, display: 'block', marginTop: tokens.spacingVerticalXS },
});

interface SessionItem {
  id: string;
  userAgent: string;
  ipAddress: string;
  apps: { appId: string; displayName: string }[];
  createdDateTime: string;
  lastUsedDateTime: string;
}
interface GrantItem {
  id: string;
  appId: string;
  appDisplayName: string;
  userAgent: string | null;
  ipAddress: string | null;
  createdDateTime: string;
  lastUsedDateTime: string;
  expiresDateTime: string | null;
}
interface ListPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

/** A user agent as a person names the device: "Chrome on Linux"; the raw string when unknown. */
export function deviceName(ua: string | null): string {
  if (!ua) return 'unknown device';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : undefined;
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : undefined;
  if (browser) return os ? `${browser} on ${os}` : browser;
  return ua.length > 40 ? `${ua.slice(0, 39)}…` : ua;
}

const when = (v: string | null) => (v ? new Date(v).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '—');

/** One keyset-paged list: the pages seen so far, the current one fetched. */
function usePaged<T>(key: string, id: string, first: string) {
  const [pages, setPages] = useState<string[]>([first]);
  const current = pages[pages.length - 1]!;
  const q = useQuery({ queryKey: [key, id, current], queryFn: () => call<ListPage<T>>(current) });
  const next = q.data?.['@odata.nextLink'];
  return { q, number: pages.length, prev: pages.length > 1 ? () => setPages(pages.slice(0, -1)) : undefined, next: next ? () => setPages([...pages, sameOriginPath(next)]) : undefined };
}

function Pager(props: { name: string; number: number; prev?: () => void; next?: () => void }) {
  const s = useStyles();
  return (
    <div className={s.pager}>
      <Button id={`${props.name}Prev`} disabled={!props.prev} onClick={props.prev}>
        Previous
      </Button>
      <Text id={`${props.name}Page`}>Page {props.number}</Text>
      <Button id={`${props.name}Next`} disabled={!props.next} onClick={props.next}>
        Next
      </Button>
    </div>
  );
}

export function SessionsPage({ id }: { id: string }) {
  const s = useStyles();
  const [open, setOpen] = useState<{ name: string; label: string; input: Record<string, unknown> } | undefined>();
  const enc = encodeURIComponent(id);
  const user = useUser(id);
  const sessions = usePaged<SessionItem>('sessions', id, `/latchkey/v1/users/${enc}/sessions?$top=${SESSIONS_PAGE_SIZE}`);
  const grants = usePaged<GrantItem>('grants', id, `/latchkey/v1/users/${enc}/grants?$top=${SESSIONS_PAGE_SIZE}`);
  const actions = useQuery({ queryKey: ['actions', id], queryFn: () => call<ActionsDoc>(`/latchkey/v1/users/${enc}/actions`) });
  const byName = new Map<string, ActionInfo>((actions.data?.value ?? []).map((a) => [a.name, a]));
  const u = user.data;

  const endButton = (action: 'endSession' | 'endGrant', itemId: string, what: string, input: Record<string, unknown>) => {
    const info = byName.get(action);
    return (
      <Button size="small" id={`end-${itemId}`} aria-label={`End ${what}`} disabled={!info?.allowed} aria-describedby={info?.allowed ? undefined : `${action}-reason`} onClick={() => setOpen({ name: action, label: `End ${what}`, input })}>
        End
      </Button>
    );
  };
  const reason = (action: string) => {
    const info = byName.get(action);
    return info && !info.allowed ? (
      <Text className={s.note} id={`${action}-reason`}>
        End: {info.reason ?? 'This action is not available.'}
      </Text>
    ) : null;
  };

  return (
    <section aria-labelledby="sessionsTitle">
      <UserHeader id={id} current="sessions" titleId="sessionsTitle" />
      {actions.isError && <ErrorBar error={actions.error} />}

      <div className={s.section}>
        <Title3 as="h2" className={s.h}>
          Browser sessions
        </Title3>
        {sessions.q.isPending && <Spinner label="Loading the sessions" />}
        {sessions.q.isError && <ErrorBar error={sessions.q.error} />}
        {sessions.q.data && (
          <>
            {sessions.q.data.value.length === 0 ? (
              <Text id="noSessions">No live browser session.</Text>
            ) : (
              <Table id="sessionsTable" aria-label="Browser sessions" size="small">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Device</TableHeaderCell>
                    <TableHeaderCell>Apps</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>IP address</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>Signed in</TableHeaderCell>
                    <TableHeaderCell>Last used</TableHeaderCell>
                    <TableHeaderCell>
                      <span className={s.wideOnly}>End</span>
                    </TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {sessions.q.data.value.map((x) => (
                    <TableRow key={x.id} data-session-id={x.id}>
                      <TableCell className={s.cell} title={x.userAgent}>
                        {deviceName(x.userAgent)}
                      </TableCell>
                      <TableCell className={s.cell}>{x.apps.map((a) => a.displayName).join(', ') || '—'}</TableCell>
                      <TableCell className={mergeClasses(s.cell, s.wideOnly)}>{x.ipAddress}</TableCell>
                      <TableCell className={s.wideOnly}>{when(x.createdDateTime)}</TableCell>
                      <TableCell>{when(x.lastUsedDateTime)}</TableCell>
                      <TableCell>{endButton('endSession', x.id, `the browser session on ${deviceName(x.userAgent)}`, { sessionId: x.id })}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
            {reason('endSession')}
            <Pager name="sessions" number={sessions.number} prev={sessions.prev} next={sessions.next} />
          </>
        )}
      </div>

      <div className={s.section}>
        <Title3 as="h2" className={s.h}>
          Apps holding a refresh token
        </Title3>
        {grants.q.isPending && <Spinner label="Loading the apps" />}
        {grants.q.isError && <ErrorBar error={grants.q.error} />}
        {grants.q.data && (
          <>
            {grants.q.data.value.length === 0 ? (
              <Text id="noGrants">No app holds a refresh token.</Text>
            ) : (
              <Table id="grantsTable" aria-label="Apps holding a refresh token" size="small">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>App</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>Device</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>IP address</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>Issued</TableHeaderCell>
                    <TableHeaderCell>Last used</TableHeaderCell>
                    <TableHeaderCell className={s.wideOnly}>Expires</TableHeaderCell>
                    <TableHeaderCell>
                      <span className={s.wideOnly}>End</span>
                    </TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {grants.q.data.value.map((g) => (
                    <TableRow key={g.id} data-grant-id={g.id}>
                      <TableCell className={s.cell}>{g.appDisplayName}</TableCell>
                      <TableCell className={mergeClasses(s.cell, s.wideOnly)} title={g.userAgent ?? undefined}>
                        {deviceName(g.userAgent)}
                      </TableCell>
                      <TableCell className={mergeClasses(s.cell, s.wideOnly)}>{g.ipAddress ?? '—'}</TableCell>
                      <TableCell className={s.wideOnly}>{when(g.createdDateTime)}</TableCell>
                      <TableCell>{when(g.lastUsedDateTime)}</TableCell>
                      <TableCell className={s.wideOnly}>{when(g.expiresDateTime)}</TableCell>
                      <TableCell>{endButton('endGrant', g.id, `the refresh token of ${g.appDisplayName}`, { grantId: g.id })}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
            {reason('endGrant')}
            <Pager name="grants" number={grants.number} prev={grants.prev} next={grants.next} />
          </>
        )}
      </div>

      {u && open && <ActionDialog userId={u.id} action={open.name} label={open.label} userName={u.displayName} input={open.input} onClose={() => setOpen(undefined)} onDeleted={() => navigate('/admin/')} />}
    </section>
  );
}
