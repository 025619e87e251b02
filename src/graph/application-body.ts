// Graph's application resource: a request body of POST/PATCH /applications read into the admin actions'
// input (every property checked for its type and named when refused; unknown ones refused), and an
// application shaped as Graph answers it. Latchkey's own settings are directory extension properties
// (`extension_latchkey_*`), a name Graph's own properties never take.
import type { ApplicationInput } from '../admin/applications.js';
import type { App, AppRole, PermissionScope, RequiredResourceAccess } from '../directory/apps.js';
import { GraphError } from './errors.js';
import { bool, iso, jsonBody, nestedObject, str } from './kit.js';

export const EXT = {
  requireMfa: 'extension_latchkey_requireMfa',
  requirePkce: 'extension_latchkey_requirePkce',
  introspectionAllowed: 'extension_latchkey_introspectionAllowed',
  backchannelLogoutUri: 'extension_latchkey_backchannelLogoutUri',
} as const;

/** Graph properties Latchkey keeps as given and answers back, with the type each must have. */
const KEPT: Record<string, 'string' | 'strings' | 'object' | 'boolean'> = {
  description: 'string',
  notes: 'string',
  tags: 'strings',
  groupMembershipClaims: 'string',
  serviceManagementReference: 'string',
  isDeviceOnlyAuthSupported: 'boolean',
  oauth2RequirePostResponse: 'boolean',
  optionalClaims: 'object',
  info: 'object',
  parentalControlSettings: 'object',
};

const TOP = ['displayName', 'signInAudience', 'identifierUris', 'isFallbackPublicClient', 'web', 'spa', 'publicClient', 'api', 'appRoles', 'requiredResourceAccess', ...Object.keys(KEPT), ...Object.values(EXT)];

const bad = (message: string) => new GraphError(400, 'Request_BadRequest', message);

function strings(v: unknown, name: string, max = 256): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > 256) throw bad(`Property '${name}' must be an array of at most 256 strings.`);
  return v.map((x, i) => str(x, `${name}[${i}]`, { required: true, max: Math.max(max, 2048) })!);
}

function objects(v: unknown, name: string): Record<string, unknown>[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > 256) throw bad(`Property '${name}' must be an array of at most 256 objects.`);
  return v.map((x, i) => nestedObject(x, `${name}[${i}]`, Object.keys((x ?? {}) as object), name));
}

function scopes(v: unknown): PermissionScope[] | undefined {
  return objects(v, 'api.oauth2PermissionScopes')?.map((o, i) => {
    const n = `api.oauth2PermissionScopes[${i}]`;
    nestedObject(o, n, ['id', 'value', 'type', 'isEnabled', 'adminConsentDisplayName', 'adminConsentDescription', 'userConsentDisplayName', 'userConsentDescription', 'origin'], 'permissionScope');
    const type = str(o.type, `${n}.type`) ?? 'User';
    if (type !== 'User' && type !== 'Admin') throw bad(`Property '${n}.type' must be 'User' or 'Admin'.`);
    return {
      id: str(o.id, `${n}.id`, { required: true })!,
      value: str(o.value, `${n}.value`, { required: true })!,
      type,
      isEnabled: bool(o.isEnabled, `${n}.isEnabled`) ?? true,
      adminConsentDisplayName: str(o.adminConsentDisplayName, `${n}.adminConsentDisplayName`, { max: 1024 }) ?? null,
      adminConsentDescription: str(o.adminConsentDescription, `${n}.adminConsentDescription`, { max: 1024 }) ?? null,
      userConsentDisplayName: str(o.userConsentDisplayName, `${n}.userConsentDisplayName`, { max: 1024 }) ?? null,
      userConsentDescription: str(o.userConsentDescription, `${n}.userConsentDescription`, { max: 1024 }) ?? null,
    };
  });
}

function roles(v: unknown): AppRole[] | undefined {
  return objects(v, 'appRoles')?.map((o, i) => {
    const n = `appRoles[${i}]`;
    nestedObject(o, n, ['id', 'value', 'displayName', 'description', 'isEnabled', 'allowedMemberTypes', 'origin'], 'appRole');
    const members = strings(o.allowedMemberTypes, `${n}.allowedMemberTypes`) ?? [];
    if (!members.length || members.some((m) => m !== 'User' && m !== 'Application')) throw bad(`Property '${n}.allowedMemberTypes' must hold 'User', 'Application' or both.`);
    return { id: str(o.id, `${n}.id`, { required: true })!, value: str(o.value, `${n}.value`) ?? null, displayName: str(o.displayName, `${n}.displayName`, { max: 1024 }) ?? null, description: str(o.description, `${n}.description`, { max: 1024 }) ?? null, isEnabled: bool(o.isEnabled, `${n}.isEnabled`) ?? true, allowedMemberTypes: members };
  });
}

function resourceAccess(v: unknown): RequiredResourceAccess[] | undefined {
  return objects(v, 'requiredResourceAccess')?.map((o, i) => {
    const n = `requiredResourceAccess[${i}]`;
    nestedObject(o, n, ['resourceAppId', 'resourceAccess'], 'requiredResourceAccess');
    const access = objects(o.resourceAccess, `${n}.resourceAccess`) ?? [];
    return {
      resourceAppId: str(o.resourceAppId, `${n}.resourceAppId`, { required: true })!,
      resourceAccess: access.map((a, j) => {
        nestedObject(a, `${n}.resourceAccess[${j}]`, ['id', 'type'], 'resourceAccess');
        const type = str(a.type, `${n}.resourceAccess[${j}].type`, { required: true });
        if (type !== 'Scope' && type !== 'Role') throw bad(`Property '${n}.resourceAccess[${j}].type' must be 'Scope' or 'Role'.`);
        return { id: str(a.id, `${n}.resourceAccess[${j}].id`, { required: true })!, type };
      }),
    };
  });
}

function kept(b: Record<string, unknown>, web: Record<string, unknown> | undefined, api: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, type] of Object.entries(KEPT)) {
    const v = b[k];
    if (v === undefined) continue;
    if (v !== null && type === 'string') str(v, k, { max: 1024 });
    if (v !== null && type === 'boolean') bool(v, k);
    if (type === 'strings') strings(v ?? [], k);
    if (v !== null && type === 'object' && (typeof v !== 'object' || Array.isArray(v))) throw bad(`Property '${k}' must be an object.`);
    if (JSON.stringify(v).length > 16_384) throw bad(`Property '${k}' is too large.`);
    out[k] = v;
  }
  if (web?.homePageUrl !== undefined) out.homePageUrl = str(web.homePageUrl, 'web.homePageUrl', { max: 2048 }) ?? null;
  if (web?.implicitGrantSettings !== undefined) {
    const g = nestedObject(web.implicitGrantSettings, 'web.implicitGrantSettings', ['enableAccessTokenIssuance', 'enableIdTokenIssuance'], 'implicitGrantSettings');
    // the implicit flow is not offered (the engine issues tokens by code only): only `false` is accepted
    if (bool(g.enableAccessTokenIssuance, 'web.implicitGrantSettings.enableAccessTokenIssuance') || bool(g.enableIdTokenIssuance, 'web.implicitGrantSettings.enableIdTokenIssuance')) throw bad("Property 'web.implicitGrantSettings' cannot enable the implicit flow: Latchkey issues tokens by authorization code only.");
  }
  if (api?.requestedAccessTokenVersion !== undefined && api.requestedAccessTokenVersion !== null) {
    if (api.requestedAccessTokenVersion !== 1 && api.requestedAccessTokenVersion !== 2) throw bad("Property 'api.requestedAccessTokenVersion' must be 1, 2 or null.");
    out.requestedAccessTokenVersion = api.requestedAccessTokenVersion;
  }
  return Object.keys(out).length ? out : undefined;
}

/** A POST or PATCH body as the actions' input; `creating` requires displayName. */
export function applicationInput(body: unknown, creating: boolean): ApplicationInput {
  const b = jsonBody({ body } as never, TOP, 'application');
  const web = b.web === undefined || b.web === null ? undefined : nestedObject(b.web, 'web', ['redirectUris', 'logoutUrl', 'homePageUrl', 'implicitGrantSettings', 'redirectUriSettings'], 'webApplication');
  const spa = b.spa === undefined || b.spa === null ? undefined : nestedObject(b.spa, 'spa', ['redirectUris'], 'spaApplication');
  const pub = b.publicClient === undefined || b.publicClient === null ? undefined : nestedObject(b.publicClient, 'publicClient', ['redirectUris'], 'publicClientApplication');
  const api = b.api === undefined || b.api === null ? undefined : nestedObject(b.api, 'api', ['oauth2PermissionScopes', 'requestedAccessTokenVersion', 'acceptMappedClaims', 'knownClientApplications', 'preAuthorizedApplications'], 'apiApplication');
  if (api?.acceptMappedClaims) throw bad("Property 'api.acceptMappedClaims' is not supported.");
  for (const k of ['knownClientApplications', 'preAuthorizedApplications'] as const) if (api?.[k] !== undefined && !(Array.isArray(api[k]) && api[k].length === 0)) throw bad(`Property 'api.${k}' is not supported (only an empty list).`);
  if (web?.redirectUriSettings !== undefined && !Array.isArray(web.redirectUriSettings)) throw bad("Property 'web.redirectUriSettings' must be an array.");
  if (b.signInAudience !== undefined && b.signInAudience !== 'AzureADMyOrg') throw bad("Property 'signInAudience' must be 'AzureADMyOrg': Latchkey is one tenant.");
  const displayName = str(b.displayName, 'displayName', { required: creating, nonEmpty: true });
  if (b.displayName === null) throw bad("Property 'displayName' cannot be null.");
  const logout = web?.logoutUrl;
  const backchannel = b[EXT.backchannelLogoutUri];
  const input: ApplicationInput = {
    displayName,
    webRedirectUris: strings(web?.redirectUris, 'web.redirectUris'),
    logoutUrl: logout === null ? null : str(logout, 'web.logoutUrl', { max: 256 }),
    spaRedirectUris: strings(spa?.redirectUris, 'spa.redirectUris'),
    publicClientRedirectUris: strings(pub?.redirectUris, 'publicClient.redirectUris'),
    isFallbackPublicClient: b.isFallbackPublicClient === null ? false : bool(b.isFallbackPublicClient, 'isFallbackPublicClient'),
    identifierUris: strings(b.identifierUris, 'identifierUris'),
    scopes: scopes(api?.oauth2PermissionScopes),
    roles: roles(b.appRoles),
    requiredResourceAccess: resourceAccess(b.requiredResourceAccess),
    properties: kept(b, web, api),
    requireMfa: bool(b[EXT.requireMfa], EXT.requireMfa),
    requirePkce: bool(b[EXT.requirePkce], EXT.requirePkce),
    introspectionAllowed: bool(b[EXT.introspectionAllowed], EXT.introspectionAllowed),
    backchannelLogoutUri: backchannel === null ? null : str(backchannel, EXT.backchannelLogoutUri, { max: 256 }),
  };
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as ApplicationInput;
}

/** The properties an application answers with (the default $select). */
export const APPLICATION_DEFAULT_SELECT = [
  'id', 'deletedDateTime', 'appId', 'applicationTemplateId', 'disabledByMicrosoftStatus', 'createdDateTime', 'displayName', 'description', 'groupMembershipClaims', 'identifierUris', 'isDeviceOnlyAuthSupported',
  'isFallbackPublicClient', 'notes', 'publisherDomain', 'serviceManagementReference', 'signInAudience', 'tags', 'tokenEncryptionKeyId', 'defaultRedirectUri', 'optionalClaims', 'addIns', 'api', 'appRoles', 'info',
  'keyCredentials', 'parentalControlSettings', 'passwordCredentials', 'publicClient', 'requiredResourceAccess', 'verifiedPublisher', 'web', 'spa', 'oauth2RequirePostResponse', ...Object.values(EXT),
];

export interface StoredSecret {
  id: string;
  hint: string;
  display_name: string | null;
  start_at: number | null;
  created_at: number;
  expires_at: number | null;
}

export function passwordCredential(s: StoredSecret, secretText: string | null = null) {
  return { customKeyIdentifier: null, displayName: s.display_name, endDateTime: iso(s.expires_at), hint: s.hint, keyId: s.id, secretText, startDateTime: iso(s.start_at ?? s.created_at) };
}

/** An application in Graph's shape, limited to `select`. */
export function graphApplication(app: App, secrets: StoredSecret[], domain: string, select: readonly string[] = APPLICATION_DEFAULT_SELECT): Record<string, unknown> {
  const p = app.properties;
  const all: Record<string, unknown> = {
    id: app.objectId,
    deletedDateTime: null,
    appId: app.id,
    applicationTemplateId: null,
    disabledByMicrosoftStatus: null,
    createdDateTime: iso(app.createdAt),
    displayName: app.displayName,
    description: p.description ?? null,
    groupMembershipClaims: p.groupMembershipClaims ?? null,
    identifierUris: app.identifierUris,
    isDeviceOnlyAuthSupported: p.isDeviceOnlyAuthSupported ?? null,
    isFallbackPublicClient: app.isFallbackPublicClient,
    notes: p.notes ?? null,
    publisherDomain: domain,
    serviceManagementReference: p.serviceManagementReference ?? null,
    signInAudience: 'AzureADMyOrg',
    tags: p.tags ?? [],
    tokenEncryptionKeyId: null,
    defaultRedirectUri: null,
    optionalClaims: p.optionalClaims ?? null,
    addIns: [],
    api: { acceptMappedClaims: null, knownClientApplications: [], requestedAccessTokenVersion: p.requestedAccessTokenVersion ?? null, oauth2PermissionScopes: app.scopes, preAuthorizedApplications: [] },
    appRoles: app.roles,
    info: p.info ?? { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    keyCredentials: [],
    parentalControlSettings: p.parentalControlSettings ?? { countriesBlockedForMinors: [], legalAgeGroupRule: 'Allow' },
    passwordCredentials: secrets.map((s) => passwordCredential(s)),
    publicClient: { redirectUris: app.publicClientRedirectUris },
    requiredResourceAccess: app.requiredResourceAccess,
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
    web: { homePageUrl: p.homePageUrl ?? null, logoutUrl: app.logoutUrl, redirectUris: app.webRedirectUris, implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false }, redirectUriSettings: app.webRedirectUris.map((uri) => ({ uri, index: null })) },
    spa: { redirectUris: app.spaRedirectUris },
    oauth2RequirePostResponse: p.oauth2RequirePostResponse ?? false,
    [EXT.requireMfa]: app.requireMfa,
    [EXT.requirePkce]: app.requirePkce,
    [EXT.introspectionAllowed]: app.introspectionAllowed,
    [EXT.backchannelLogoutUri]: app.backchannelLogoutUri,
  };
  return Object.fromEntries(select.map((k) => [k, all[k]]));
}
