// Admin consent as Entra's "Grant admin consent" button gives it, through Graph: the app's service principal
// (created when missing, and the resource's too), one tenant-wide oAuth2PermissionGrant per API holding
// the configured delegated permissions (created, or widened to them), and one appRoleAssignment per
// configured application permission. Also the consent state the API permissions table shows.
import { call } from '../api';
import { type AppRoleAssignment, type Application, type DelegatedGrant, type ServicePrincipal, all, spByAppId } from './graph';

export interface ConsentState {
  sp: ServicePrincipal | undefined;
  grants: DelegatedGrant[];
  assignments: AppRoleAssignment[];
}

export async function consentState(appId: string): Promise<ConsentState> {
  const sp = await spByAppId(appId);
  if (!sp) return { sp, grants: [], assignments: [] };
  const [grants, assignments] = await Promise.all([all<DelegatedGrant>(`/v1.0/servicePrincipals/${sp.id}/oauth2PermissionGrants`), all<AppRoleAssignment>(`/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`)]);
  return { sp, grants, assignments };
}

/** Whether a configured permission (by its resource's service principal) is granted tenant-wide. */
export function isGranted(state: ConsentState | undefined, resource: ServicePrincipal | undefined, access: { id: string; type: 'Scope' | 'Role' }): boolean {
  if (!state?.sp || !resource) return false;
  if (access.type === 'Role') return state.assignments.some((a) => a.resourceId === resource.id && a.appRoleId === access.id);
  const value = resource.oauth2PermissionScopes.find((s) => s.id === access.id)?.value;
  return !!value && state.grants.some((g) => g.resourceId === resource.id && g.scope.split(' ').includes(value));
}

/** The application's service principal in this tenant (without one it gets no token), as Entra's portal makes it with a new registration. */
export const createSp = (appId: string) => call<ServicePrincipal>('/v1.0/servicePrincipals', { method: 'POST', body: { appId } });

export async function grantAdminConsent(app: Application): Promise<void> {
  const state = await consentState(app.appId);
  const sp = state.sp ?? (await createSp(app.appId));
  for (const r of app.requiredResourceAccess) {
    const resource = r.resourceAppId === app.appId ? sp : ((await spByAppId(r.resourceAppId)) ?? (await createSp(r.resourceAppId)));
    const wanted = r.resourceAccess.filter((a) => a.type === 'Scope').map((a) => resource.oauth2PermissionScopes.find((s) => s.id === a.id)?.value).filter((v): v is string => !!v);
    if (wanted.length) {
      const grant = state.grants.find((g) => g.resourceId === resource.id);
      if (!grant) {
        await call('/v1.0/oauth2PermissionGrants', { method: 'POST', body: { clientId: sp.id, consentType: 'AllPrincipals', resourceId: resource.id, scope: wanted.join(' ') } });
      } else {
        const held = grant.scope.split(' ').filter(Boolean);
        const missing = wanted.filter((v) => !held.includes(v));
        if (missing.length) await call(`/v1.0/oauth2PermissionGrants/${encodeURIComponent(grant.id)}`, { method: 'PATCH', body: { scope: [...held, ...missing].join(' ') } });
      }
    }
    for (const role of r.resourceAccess.filter((a) => a.type === 'Role')) {
      if (state.assignments.some((a) => a.resourceId === resource.id && a.appRoleId === role.id)) continue;
      await call(`/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`, { method: 'POST', body: { principalId: sp.id, resourceId: resource.id, appRoleId: role.id } });
    }
  }
}
