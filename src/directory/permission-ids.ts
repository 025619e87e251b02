// The ids of the permissions apps grant one another: Microsoft Graph's well-known ids (Entra's real ones,
// from Graph's permissions reference) and, for every other registration, ids derived from its app id and the
// permission's value (a UUID v5), so an appRoleAssignment or an oAuth2PermissionGrant names the same permission
// after a restart. Registrations keep their exposed scopes and app roles as value strings; when they hold
// objects with their own ids, `appPermissions()` is the one place that reads them.
import crypto from 'node:crypto';
import { type App, GRAPH_APP_ID } from './apps.js';

export type PermissionKind = 'delegated' | 'application';

/** Graph's permissions as Entra numbers them (delegated scope id, application role id), by value. */
const GRAPH: Record<string, { delegated?: string; application?: string }> = {
  'Application.Read.All': { delegated: 'c79f8feb-a9db-4090-85f9-90d820caa0eb', application: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30' },
  'Application.ReadWrite.All': { delegated: 'bdfbf15f-ee85-4955-8675-146e8e5296b5', application: '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9' },
  'AppRoleAssignment.ReadWrite.All': { delegated: '84bccea3-f856-4a8a-967b-dbe0a3d53a64', application: '06b708a9-e830-4db3-a914-8e69da51d44f' },
  'AuditLog.Read.All': { delegated: 'e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20', application: 'b0afded3-3588-46d8-8b3d-9842eff778da' },
  'DelegatedPermissionGrant.ReadWrite.All': { delegated: '41ce6ca6-6826-4807-84f1-1c82854f7ee5', application: '8e8e4742-1d95-4f68-9d56-6ee75648c72a' },
  'Directory.AccessAsUser.All': { delegated: '0e263e50-5827-48a4-b97c-d940288653c7' },
  'Directory.Read.All': { delegated: '06da0dbc-49e2-44d2-8312-53f166ab848a', application: '7ab1d382-f21e-4acd-a863-ba3e13f7da61' },
  'Directory.ReadWrite.All': { delegated: 'c5366453-9fb0-48a5-a156-24f0c49a4b84', application: '19dbc75e-c2e2-444c-a770-ec69d8559fc7' },
  email: { delegated: '64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0' },
  'Group.Create': { application: 'bf7b1a76-6e77-406b-b258-bf5c7720e98f' },
  'Group.Read.All': { delegated: '5f8c59db-677d-491f-a6b8-5f174b11ec1d', application: '5b567255-7703-4780-807c-7be8301ae99b' },
  'Group.ReadWrite.All': { delegated: '4e46008b-f24c-477d-8fff-7bb4ec7aafe0', application: '62a82d76-70ea-41e2-9197-370581804d09' },
  'GroupMember.Read.All': { delegated: 'bc024368-1153-4739-b217-4326f2e966d0', application: '98830695-27a2-44f7-8c18-0c3ebc9698f6' },
  'GroupMember.ReadWrite.All': { delegated: 'f81125ac-d3b7-4573-a3b2-7099cc39df9e', application: 'dbaae8cf-10b5-4b86-a4a1-f871c94c6695' },
  'Mail.Read': { delegated: '570282fd-fa5c-430d-a7fd-fc8dc98a9dca', application: '810c84a8-4a9e-49e6-bf7d-12d183f40d01' },
  offline_access: { delegated: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182' },
  openid: { delegated: '37f7f235-527c-4136-accd-4a02d197296e' },
  'Policy.Read.All': { delegated: '572fea84-0151-49b2-9301-11cb16974376', application: '246dd0d5-5bd0-4def-940b-0421030a5b68' },
  'Policy.ReadWrite.AuthenticationMethod': { delegated: '7e823077-d88e-468f-a337-e18f1f0e6c7c', application: '29c18626-4985-4dcd-85c0-193eef327366' },
  'Policy.ReadWrite.SecurityDefaults': { delegated: '0b2a744c-2abf-4f1e-ad7e-17a087e2be99', application: '1c6e93a6-28e2-4cbb-9f64-1a46a821124d' },
  profile: { delegated: '14dad69e-099b-42c9-810b-d002981feec1' },
  'RoleManagement.Read.All': { delegated: '48fec646-b2ba-4019-8681-8eb31435aded', application: 'c7fbd983-d9aa-4fa7-84b8-17382c103bc4' },
  'RoleManagement.Read.Directory': { delegated: '741c54c3-0c1e-44a1-818b-3f97ab4e8c83', application: '483bed4a-2ad3-4361-a73b-c83ccdbdc53c' },
  'RoleManagement.ReadWrite.Directory': { delegated: 'd01b97e9-cbc0-49fe-810a-750afd5527a3', application: '9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8' },
  'User.EnableDisableAccount.All': { application: '3011c876-62b7-4ada-afa2-506cbbecc68c' },
  'User.Read': { delegated: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d' },
  'User.Read.All': { delegated: 'a154be20-db9c-4678-8ab7-66f6cc099a59', application: 'df021288-bdef-4463-88db-98f22de89214' },
  'User.ReadBasic.All': { delegated: 'b340eb25-3456-403f-be2f-af7a0d370277', application: '97235f07-e226-4f63-ace3-39588e11d3a1' },
  'User.ReadWrite.All': { delegated: '204e0828-b5ca-4ad8-b9f3-f32a958e7cc4', application: '741f803b-c850-494e-b5df-cde7c675a1ca' },
  'User.RevokeSessions.All': { application: '77f3a031-c388-4f99-b373-dc68676a979e' },
  'UserAuthenticationMethod.Read.All': { delegated: 'aec28ec7-4d02-4e8c-b864-50163aea77eb', application: '38d9df27-64da-44fd-b7c5-a6fbac20248f' },
  'UserAuthenticationMethod.ReadWrite': { delegated: '48971fc1-70d7-4245-af77-0beb29b53ee2' },
  'UserAuthenticationMethod.ReadWrite.All': { delegated: 'b7887744-6746-4312-813d-72daeaee7e2d', application: '50483e42-d915-4231-9639-7fdb7fd190e5' },
};

/** Namespace of the derived ids (a fixed random UUID: the ids must never change). */
const NAMESPACE = '6f1c1f0e-5b8a-4f39-9d0e-3c2a7b6d9e41';

/** RFC 9562 §5.5: a name-based UUID (SHA-1). */
export function uuidV5(name: string, namespace = NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = crypto.createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface Permission {
  id: string;
  value: string;
}

/** Graph's permissions of one kind (every one Latchkey knows the id of). */
export function graphPermissions(kind: PermissionKind): Permission[] {
  return Object.entries(GRAPH)
    .filter(([, ids]) => ids[kind] !== undefined)
    .map(([value, ids]) => ({ id: ids[kind]!, value }));
}

/**
 * The delegated scopes (`oauth2PermissionScopes`) and application permissions (`appRoles`) an app exposes,
 * with their ids. Graph: its well-known table (its service principal exposes them all, as in Entra). Others:
 * the registration's enabled scopes and app roles, with the ids the application object gives them.
 */
export function appPermissions(app: Pick<App, 'id' | 'scopes' | 'roles'>): { scopes: Permission[]; roles: Permission[] } {
  if (app.id === GRAPH_APP_ID) return { scopes: graphPermissions('delegated'), roles: graphPermissions('application') };
  return {
    scopes: app.scopes.filter((s) => s.isEnabled).map(({ id, value }) => ({ id, value })),
    roles: app.roles.filter((r) => r.isEnabled && r.value).map(({ id, value }) => ({ id, value: value! })),
  };
}
