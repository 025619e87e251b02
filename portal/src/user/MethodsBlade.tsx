// A user's Authentication methods (Entra's user blade): the registered methods, usable or not (the user's
// effective authentication methods policy; a TAP's own usability), per-user MFA state (Graph beta
// requirements, changed through the setPerUserMfa action), and the actions: add a method, delete one,
// require re-register MFA, revoke MFA sessions, reset password, view the policy. Every change goes
// through the preview/apply panel; a button the server refuses is disabled with the server's reason.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  Badge,
  Button,
  Field,
  Select,
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
  tokens,
} from '@fluentui/react-components';
import { type ActionInfo, type ActionsDoc, type PlanDoc, call, methodTypeLabel } from '../api';
import { ActionDialog } from '../ActionDialog';
import { ErrorBar } from '../ErrorBar';
import { navigate } from '../router';
import { ActionButton } from './ActionButton';
import { AddMethodDialog } from './AddMethodDialog';
import { type MethodsPolicyDoc, PolicyDialog } from './PolicyDialog';
import { UserHeader, useUser } from './UserTabs';

const useStyles = makeStyles({
  bar: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalM, margin: `${tokens.spacingVerticalS} 0 ${tokens.spacingVerticalL}` },
  section: { marginTop: tokens.spacingVerticalXL },
  h: { display: 'block', marginBottom: tokens.spacingVerticalS },
  detail: { overflowWrap: 'anywhere' },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
  note: { color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200, display: 'block', marginTop: tokens.spacingVerticalXS },
  mfa: { display: 'flex', flexWrap: 'wrap', alignItems: 'flex-end', gap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalM },
  state: { display: 'block', marginBottom: tokens.spacingVerticalS },
});

/** One method as Graph's /authentication/methods gives it (the properties this page shows). */
export interface GraphMethod {
  '@odata.type': string;
  id: string;
  createdDateTime?: string | null;
  displayName?: string | null;
  startDateTime?: string | null;
  lifetimeInMinutes?: number | null;
  isUsableOnce?: boolean | null;
  isUsable?: boolean;
  methodUsabilityReason?: string | null;
  passkeyType?: string | null;
}

/** The policy's configuration of each method type (GET .../methodsPolicy). */
const CONFIG_OF: Record<string, string> = { password: 'Password', softwareOath: 'SoftwareOath', temporaryAccessPass: 'TemporaryAccessPass', fido2: 'Fido2' };
const TAP_REASONS: Record<string, string> = { Expired: 'the pass has expired', NotYetValid: 'the pass is not usable yet', OneTimeUsed: 'the one-time pass was used', DisabledByPolicy: 'disabled in the authentication methods policy' };
const STATES = ['disabled', 'enabled', 'enforced'] as const;

const typeOf = (m: GraphMethod) => m['@odata.type'].replace('#microsoft.graph.', '').replace(/AuthenticationMethod$/, '');

function detail(m: GraphMethod): string {
  const t = typeOf(m);
  if (t === 'temporaryAccessPass') {
    const from = m.startDateTime ? new Date(m.startDateTime) : undefined;
    const until = from && m.lifetimeInMinutes ? new Date(from.getTime() + m.lifetimeInMinutes * 60_000) : undefined;
    return `${m.isUsableOnce ? 'One-time' : 'Multi-use'}, ${m.lifetimeInMinutes ?? '?'} minutes${until ? `, until ${until.toLocaleString()}` : ''}`;
  }
  if (t === 'fido2') return [m.displayName, m.passkeyType === 'synced' ? 'synced' : m.passkeyType === 'deviceBound' ? 'device-bound' : null].filter(Boolean).join(', ');
  return '';
}

/** Why a method is not usable, or undefined when it is (the policy first, then a TAP's own state). */
function unusable(m: GraphMethod, policy: MethodsPolicyDoc | undefined): string | undefined {
  const config = policy?.value.find((p) => p.method === CONFIG_OF[typeOf(m)]);
  if (config && !config.enabled) return config.reasonText;
  if (typeOf(m) === 'temporaryAccessPass' && m.isUsable === false) return TAP_REASONS[m.methodUsabilityReason ?? ''] ?? m.methodUsabilityReason ?? 'not usable';
  return undefined;
}

type Open = { kind: 'action'; name: string; label: string; input?: Record<string, unknown>; plan?: PlanDoc; opener?: HTMLElement | null } | { kind: 'add' } | { kind: 'policy' };

export function MethodsBlade({ id }: { id: string }) {
  const s = useStyles();
  const [open, setOpen] = useState<Open | undefined>();
  const [mfaChoice, setMfaChoice] = useState<string | undefined>();
  const user = useUser(id);
  const enc = encodeURIComponent(id);
  const methods = useQuery({ queryKey: ['methods', id], queryFn: () => call<{ value: GraphMethod[] }>(`/v1.0/users/${enc}/authentication/methods`) });
  const policy = useQuery({ queryKey: ['methodsPolicy', id], queryFn: () => call<MethodsPolicyDoc>(`/latchkey/v1/users/${enc}/methodsPolicy`) });
  const requirements = useQuery({ queryKey: ['requirements', id], queryFn: () => call<{ perUserMfaState: string }>(`/beta/users/${enc}/authentication/requirements`) });
  const actions = useQuery({ queryKey: ['actions', id], queryFn: () => call<ActionsDoc>(`/latchkey/v1/users/${enc}/actions`) });
  const byName = new Map<string, ActionInfo>((actions.data?.value ?? []).map((a) => [a.name, a]));
  const u = user.data;
  const all = methods.data?.value ?? [];
  const usable = all.filter((m) => !unusable(m, policy.data));
  const nonUsable = all.filter((m) => unusable(m, policy.data));
  const deleteInfo = byName.get('deleteMethod');
  const current = requirements.data?.perUserMfaState;
  const chosen = mfaChoice ?? current ?? 'disabled';
  const act = (name: string, label: string, input?: Record<string, unknown>) => setOpen({ kind: 'action', name, label, input });

  const table = (rows: GraphMethod[], tableId: string, label: string, withReason: boolean) => (
    <Table id={tableId} aria-label={label} size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Authentication method</TableHeaderCell>
          <TableHeaderCell>{withReason ? 'Why not usable' : 'Detail'}</TableHeaderCell>
          <TableHeaderCell className={s.wideOnly}>Created</TableHeaderCell>
          <TableHeaderCell>
            <span className={s.wideOnly}>Actions</span>
          </TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {rows.map((m) => {
          const t = typeOf(m);
          return (
            <TableRow key={m.id} data-method-id={m.id} data-type={t}>
              <TableCell className={s.detail}>{methodTypeLabel(t)}</TableCell>
              <TableCell className={s.detail}>{withReason ? unusable(m, policy.data) : detail(m) || '—'}</TableCell>
              <TableCell className={s.wideOnly}>{m.createdDateTime ? new Date(m.createdDateTime).toLocaleString() : '—'}</TableCell>
              <TableCell>
                {t === 'password' ? (
                  <Text className={s.note}>Reset instead</Text>
                ) : (
                  <Button size="small" id={`delete-${m.id}`} aria-label={`Delete ${methodTypeLabel(t)} ${m.id}`} disabled={!deleteInfo?.allowed} aria-describedby={deleteInfo?.allowed ? undefined : 'deleteMethod-reason'} onClick={() => act('deleteMethod', `Delete ${methodTypeLabel(t)}`, { methodId: m.id })}>
                    Delete
                  </Button>
                )}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );

  return (
    <section aria-labelledby="methodsTitle">
      <UserHeader id={id} current="authentication-methods" titleId="methodsTitle" />
      {actions.isError && <ErrorBar error={actions.error} />}
      {u && actions.data && (
        <div className={s.bar} role="group" aria-label="Authentication method actions">
          <ActionButton name="createTap" label="Add authentication method" primary info={byName.get('createTap')} onClick={() => setOpen({ kind: 'add' })} />
          <ActionButton name="resetPassword" label="Reset password" info={byName.get('resetPassword')} onClick={() => act('resetPassword', 'Reset password')} />
          <ActionButton name="requireReregisterMfa" label="Require re-register MFA" info={byName.get('requireReregisterMfa')} onClick={() => act('requireReregisterMfa', 'Require re-register MFA')} />
          <ActionButton name="revokeMfaSessions" label="Revoke MFA sessions" info={byName.get('revokeMfaSessions')} onClick={() => act('revokeMfaSessions', 'Revoke MFA sessions')} />
          <ActionButton name="viewMethodsPolicy" label="View authentication methods policy" info={byName.get('viewMethodsPolicy')} onClick={() => setOpen({ kind: 'policy' })} />
        </div>
      )}

      <div className={s.section}>
        <Title3 as="h2" className={s.h}>
          Usable authentication methods
        </Title3>
        {methods.isPending && <Spinner label="Loading the methods" />}
        {methods.isError && <ErrorBar error={methods.error} />}
        {methods.data && (usable.length ? table(usable, 'usableMethods', 'Usable authentication methods', false) : <Text id="noUsableMethods">No usable authentication method.</Text>)}
        {deleteInfo && !deleteInfo.allowed && (
          <Text className={s.note} id="deleteMethod-reason">
            Delete: {deleteInfo.reason ?? 'This action is not available.'}
          </Text>
        )}
      </div>
      {nonUsable.length > 0 && (
        <div className={s.section}>
          <Title3 as="h2" className={s.h}>
            Non-usable authentication methods
          </Title3>
          {table(nonUsable, 'nonUsableMethods', 'Non-usable authentication methods', true)}
        </div>
      )}

      <div className={s.section}>
        <Title3 as="h2" className={s.h} id="perUserMfaTitle">
          Per-user multifactor authentication
        </Title3>
        {requirements.isError && <ErrorBar error={requirements.error} />}
        {current !== undefined && (
          <Text className={s.state}>
            Current state:{' '}
            <Badge appearance="tint" color={current === 'disabled' ? 'subtle' : 'brand'} id="perUserMfaState" data-state={current}>
              {current}
            </Badge>
          </Text>
        )}
        {u && actions.data && (
          <div className={s.mfa}>
            <Field label="New state">
              <Select id="perUserMfaSelect" value={chosen} onChange={(_, d) => setMfaChoice(d.value)}>
                {STATES.map((st) => (
                  <option key={st} value={st}>
                    {st}
                  </option>
                ))}
              </Select>
            </Field>
            <ActionButton name="setPerUserMfa" label="Change per-user MFA" info={byName.get('setPerUserMfa')} extraDisabled={current !== undefined && chosen === current ? `The state is already ${current}.` : undefined} onClick={() => act('setPerUserMfa', 'Set per-user MFA', { state: chosen })} />
          </div>
        )}
      </div>

      {u && open?.kind === 'action' && <ActionDialog userId={u.id} action={open.name} label={open.label} userName={u.displayName} input={open.input} plan={open.plan} opener={open.opener} onClose={() => { setOpen(undefined); setMfaChoice(undefined); }} onDeleted={() => navigate('/admin/')} />}
      {u && open?.kind === 'add' && <AddMethodDialog userId={u.id} userName={u.displayName} onClose={() => setOpen(undefined)} onPlanned={(plan, input, opener) => setOpen({ kind: 'action', name: 'createTap', label: 'Add Temporary Access Pass', input, plan, opener })} />}
      {u && open?.kind === 'policy' && <PolicyDialog userName={u.displayName} policy={policy} onClose={() => setOpen(undefined)} />}
    </section>
  );
}
