// API permissions: the permissions the app asks for (requiredResourceAccess) by API, with their type
// (Delegated or Application) and whether admin consent grants them (Granted / Not granted); "Add a
// permission" (Microsoft Graph or one of the tenant's APIs, delegated or application permissions),
// "Remove", and "Grant admin consent" (see consent.ts).
import { useMemo, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Badge,
  Button,
  Checkbox,
  Field,
  Input,
  Radio,
  RadioGroup,
  Select,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { consentState, grantAdminConsent, isGranted } from './consent';
import { type Application, GRAPH_APP_ID, type ResourceAccess, type ServicePrincipal, all, patchApp, spByAppId } from './graph';
import { ConfirmDialog, type DialogProps, exitMotion, fieldMessage, UPDATE_REASON, useDialog, usePartStyles, useWrite } from './parts';
import { FormDialog } from '../kit/FormDialog';
import { type DirectoryActionName, Reason, byRight, useDirectoryRights } from '../kit/rights';

const useStyles = makeStyles({
  list: { maxHeight: '320px', overflowY: 'auto', display: 'flex', flexDirection: 'column', border: `1px solid ${tokens.colorNeutralStroke2}`, padding: tokens.spacingHorizontalS },
});

type Kind = 'Scope' | 'Role';

function AddPermission({ app, open, onClose, onExited }: DialogProps & { app: Application }) {
  const own = useStyles();
  const qc = useQueryClient();
  const apis = useQuery({
    queryKey: ['apis'],
    queryFn: async () => {
      const sps = await all<ServicePrincipal>('/v1.0/servicePrincipals?$select=id,appId,displayName,oauth2PermissionScopes,appRoles&$top=100');
      const graph = sps.filter((x) => x.appId === GRAPH_APP_ID);
      const tenant = sps.filter((x) => x.appId !== GRAPH_APP_ID && (x.oauth2PermissionScopes.length || x.appRoles.length)).sort((a, b) => a.displayName.localeCompare(b.displayName));
      return [...graph, ...tenant];
    },
  });
  const [apiId, setApiId] = useState(GRAPH_APP_ID);
  const [kind, setKind] = useState<Kind>('Scope');
  const [filter, setFilter] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [problem, setProblem] = useState<string>();
  const w = useWrite([['app', app.id]]);
  const api = apis.data?.find((x) => x.appId === apiId);
  const configured = new Set(app.requiredResourceAccess.find((r) => r.resourceAppId === apiId)?.resourceAccess.map((a) => a.id) ?? []);
  const items = useMemo(() => {
    const list = kind === 'Scope' ? (api?.oauth2PermissionScopes ?? []).map((p) => ({ id: p.id, value: p.value })) : (api?.appRoles ?? []).map((p) => ({ id: p.id, value: p.value }));
    return list.filter((p) => p.value.toLowerCase().includes(filter.trim().toLowerCase())).sort((a, b) => a.value.localeCompare(b.value));
  }, [api, kind, filter]);

  async function add() {
    if (!chosen.length) return setProblem('Choose at least one permission.');
    setProblem(undefined);
    const list: ResourceAccess[] = app.requiredResourceAccess.map((r) => ({ resourceAppId: r.resourceAppId, resourceAccess: [...r.resourceAccess] }));
    let entry = list.find((r) => r.resourceAppId === apiId);
    if (!entry) list.push((entry = { resourceAppId: apiId, resourceAccess: [] }));
    for (const id of chosen) entry.resourceAccess.push({ id, type: kind });
    if (await w.run(() => patchApp(app.id, { requiredResourceAccess: list }))) {
      await qc.invalidateQueries({ queryKey: ['resources', app.id] });
      onClose();
    }
  }

  return (
    <FormDialog
      open={open}
      onDismiss={onClose}
      surfaceMotion={exitMotion(onExited)}
      onSubmit={() => void add()}
      id="addPermissionDialog"
      title="Request API permissions"
      submit={{ id: 'addPermissionsButton', label: 'Add permissions', disabledFocusable: w.busy || !apis.data }}
      cancel={{ id: 'cancelPermissionsButton' }}
    >
      {apis.isPending && <Spinner label="Loading the APIs" />}
      {apis.isError && <ErrorBar error={apis.error} />}
      {w.error !== undefined && <ErrorBar error={w.error} />}
      {apis.data && (
        <>
          <Field label="API">
            <Select
              id="permissionApi"
              value={apiId}
              onChange={(_, d) => {
                setApiId(d.value);
                setChosen([]);
              }}
            >
              {apis.data.map((x) => (
                <option key={x.appId} value={x.appId}>
                  {x.displayName}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="What type of permissions does your application require?">
            <RadioGroup
              id="permissionKind"
              value={kind}
              onChange={(_, d) => {
                setKind(d.value as Kind);
                setChosen([]);
              }}
            >
              <Radio value="Scope" id="kindDelegated" label="Delegated permissions: the app acts as the signed-in user" />
              <Radio value="Role" id="kindApplication" label="Application permissions: the app runs without a signed-in user" />
            </RadioGroup>
          </Field>
          <Field label="Search permissions">
            <Input id="permissionFilter" value={filter} onChange={(_, d) => setFilter(d.value)} />
          </Field>
          <Field label="Permissions" {...fieldMessage('permissionChoiceError', problem)}>
            <div className={own.list} id="permissionList" role="group" aria-label="Permissions">
              {items.length === 0 && <Text>This API has no permission of this type.</Text>}
              {items.map((p) => (
                <Checkbox
                  key={p.id}
                  id={`perm-${p.value}`}
                  label={configured.has(p.id) ? `${p.value} (already added)` : p.value}
                  disabled={configured.has(p.id)}
                  checked={configured.has(p.id) || chosen.includes(p.id)}
                  onChange={(_, d) => setChosen(d.checked ? [...chosen, p.id] : chosen.filter((x) => x !== p.id))}
                />
              ))}
            </div>
          </Field>
        </>
      )}
    </FormDialog>
  );
}

/**
 * The rights "Grant admin consent" needs for this app, in the order it uses them (consent.ts): its service
 * principal (and an API's) made when missing, then for each API the delegated grant and the application
 * permissions (Microsoft Graph's are the role administrators' only).
 */
function consentRights(app: Application, noSp: boolean, resources: Map<string, ServicePrincipal> | undefined): DirectoryActionName[] {
  const out: DirectoryActionName[] = [];
  if (noSp || app.requiredResourceAccess.some((r) => r.resourceAppId !== app.appId && resources && !resources.has(r.resourceAppId))) out.push('createServicePrincipal');
  for (const r of app.requiredResourceAccess) {
    if (r.resourceAccess.some((a) => a.type === 'Scope')) out.push('grantDelegatedPermissions');
    if (r.resourceAccess.some((a) => a.type === 'Role')) out.push(r.resourceAppId === GRAPH_APP_ID ? 'grantGraphApplicationPermissions' : 'grantApplicationPermissions');
  }
  return out;
}

export function PermissionsSection({ app }: { app: Application }) {
  const s = usePartStyles();
  const qc = useQueryClient();
  const adding = useDialog();
  const granting = useDialog();
  const ids = app.requiredResourceAccess.map((r) => r.resourceAppId);
  const resources = useQuery({
    queryKey: ['resources', app.id, ids.join(',')],
    queryFn: async () => new Map((await Promise.all(ids.map(async (id) => [id, await spByAppId(id)] as const))).filter((e): e is readonly [string, ServicePrincipal] => !!e[1])),
  });
  const consent = useQuery({ queryKey: ['consent', app.appId], queryFn: () => consentState(app.appId) });
  const w = useWrite([['app', app.id]]);
  const rows = app.requiredResourceAccess.flatMap((r) =>
    r.resourceAccess.map((a) => {
      const res = resources.data?.get(r.resourceAppId);
      const value = a.type === 'Scope' ? res?.oauth2PermissionScopes.find((p) => p.id === a.id)?.value : res?.appRoles.find((p) => p.id === a.id)?.value;
      return { r, a, res, value: value ?? a.id, granted: isGranted(consent.data, res, a) };
    }),
  );

  const rights = useDirectoryRights();
  const mayUpdate = rights('updateApplication');
  const mayConsent = rights(...consentRights(app, consent.data?.sp === undefined && consent.isSuccess, resources.data));

  const remove = (resourceAppId: string, id: string) =>
    w.run(() =>
      patchApp(app.id, {
        requiredResourceAccess: app.requiredResourceAccess.map((r) => (r.resourceAppId === resourceAppId ? { ...r, resourceAccess: r.resourceAccess.filter((a) => a.id !== id) } : r)).filter((r) => r.resourceAccess.length),
      }),
    );

  return (
    <>
      <h2 className={s.h2}>Configured permissions</h2>
      <Text as="p" block className={s.muted}>
        Applications are authorized to call APIs when they are granted permissions by users or admins as part of the consent process.
      </Text>
      <div className={s.toolbar}>
        <Button appearance="primary" id="addPermission" {...byRight(mayUpdate, UPDATE_REASON)} onClick={() => adding.show()}>
          Add a permission
        </Button>
        <Button
          id="grantConsent"
          disabled={!rows.length || !mayConsent.allowed}
          aria-describedby={!rows.length ? 'grantConsentReason' : mayConsent.reason ? 'grantConsentRightReason' : undefined}
          onClick={() => granting.show()}
        >
          Grant admin consent for this tenant
        </Button>
        {!rows.length ? (
          <Text id="grantConsentReason" className={s.muted}>
            Add a permission first: there is nothing to consent to.
          </Text>
        ) : (
          <Reason id="grantConsentRightReason" right={mayConsent} />
        )}
      </div>
      {w.error !== undefined && <ErrorBar error={w.error} />}
      {(resources.isError || consent.isError) && <ErrorBar error={resources.error ?? consent.error} />}
      {(resources.isPending || consent.isPending) && <Spinner label="Loading the permissions" />}
      {rows.length > 0 && resources.data && consent.data && (
        <Table size="small" aria-label="Configured permissions" id="permissionsTable">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>API / Permission name</TableHeaderCell>
              <TableHeaderCell className={s.wideOnly}>Type</TableHeaderCell>
              <TableHeaderCell className={s.statusCell}>Status</TableHeaderCell>
              <TableHeaderCell className={s.actionCell}>
                <span className={s.muted}>Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.map(({ r, a, res, value, granted }) => (
              <TableRow key={`${r.resourceAppId}-${a.id}`} data-permission={`${res?.displayName ?? r.resourceAppId}/${value}`} data-type={a.type}>
                <TableCell className={s.cell}>
                  {res?.displayName ?? r.resourceAppId} · <strong>{value}</strong>
                  <span className={s.narrowOnly}>{a.type === 'Scope' ? 'Delegated' : 'Application'}</span>
                </TableCell>
                <TableCell className={s.wideOnly}>{a.type === 'Scope' ? 'Delegated' : 'Application'}</TableCell>
                <TableCell data-status={granted ? 'granted' : 'not-granted'}>
                  {granted ? (
                    <Badge appearance="tint" color="success" className={s.nowrap}>
                      Granted
                    </Badge>
                  ) : (
                    <Badge appearance="tint" color="warning" className={s.nowrap}>
                      Not granted
                    </Badge>
                  )}
                </TableCell>
                <TableCell className={s.actionCell}>
                  <Button size="small" id={`removePermission-${value}`} aria-label={`Remove ${value}`} disabledFocusable={w.busy} {...byRight(mayUpdate, UPDATE_REASON)} onClick={() => void remove(r.resourceAppId, a.id)}>
                    Remove
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {!rows.length && (
        <Text as="p" block id="noPermissions">
          No permissions added.
        </Text>
      )}
      {adding.mounted && <AddPermission key={adding.key} {...adding.props} app={app} />}
      {granting.mounted && (
        <ConfirmDialog
          key={granting.key}
          {...granting.props}
          id="grantConsentDialog"
          title="Grant admin consent confirmation"
          text="Do you want to grant consent for the requested permissions for all accounts in this tenant? This updates any existing admin consent records this application already has to match what is listed."
          confirm="Yes"
          onConfirm={async () => {
            try {
              await grantAdminConsent(app);
            } finally {
              await qc.invalidateQueries({ queryKey: ['consent', app.appId] });
              await qc.invalidateQueries({ queryKey: ['resources', app.id] });
            }
          }}
        />
      )}
    </>
  );
}
