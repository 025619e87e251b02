// Who may act on whom (spec §10; Entra's "who can reset passwords" and "who can perform sensitive
// actions" tables, reference entra-research.md §10). A target holding several roles may be acted on only
// if every one of its roles allows it; a target without a role is a plain user.

export const ROLES = {
  globalAdmin: 'Global Administrator',
  privilegedAuthAdmin: 'Privileged Authentication Administrator',
  authAdmin: 'Authentication Administrator',
  userAdmin: 'User Administrator',
  helpdeskAdmin: 'Helpdesk Administrator',
  passwordAdmin: 'Password Administrator',
  authPolicyAdmin: 'Authentication Policy Administrator',
  globalReader: 'Global Reader',
  directoryReaders: 'Directory Readers',
  groupsAdmin: 'Groups Administrator',
  guestInviter: 'Guest Inviter',
  messageCenterReader: 'Message Center Reader',
  privilegedRoleAdmin: 'Privileged Role Administrator',
  reportsReader: 'Reports Reader',
  uxSuccessManager: 'User Experience Success Manager',
  usageSummaryReportsReader: 'Usage Summary Reports Reader',
  appAdmin: 'Application Administrator',
  cloudAppAdmin: 'Cloud Application Administrator',
} as const;

export type RoleName = (typeof ROLES)[keyof typeof ROLES];
export const ALL_ROLES: readonly string[] = Object.values(ROLES);

/** Well-known role template ids (Graph `directoryRole.roleTemplateId`). */
export const ROLE_TEMPLATE_IDS: Record<string, string> = {
  [ROLES.globalAdmin]: '62e90394-69f5-4237-9190-012177145e10',
  [ROLES.privilegedAuthAdmin]: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  [ROLES.authAdmin]: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  [ROLES.userAdmin]: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  [ROLES.helpdeskAdmin]: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  [ROLES.passwordAdmin]: '966707d0-3269-4727-9be2-8c3a10f19b9d',
  [ROLES.authPolicyAdmin]: '0526716b-113d-4c15-b2c8-68e3c22b9f80',
  [ROLES.globalReader]: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  [ROLES.directoryReaders]: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  [ROLES.groupsAdmin]: 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  [ROLES.guestInviter]: '95e79109-95c0-4d8e-aee3-d01accf2d47b',
  [ROLES.messageCenterReader]: '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b',
  [ROLES.privilegedRoleAdmin]: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  [ROLES.reportsReader]: '4a5d8f65-41da-4de4-8968-e035b65339cf',
  [ROLES.uxSuccessManager]: '27460883-1df1-4691-b032-3b79643e5e63',
  [ROLES.usageSummaryReportsReader]: '75934031-6c7e-415a-99d7-48dbd49e875e',
  [ROLES.appAdmin]: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  [ROLES.cloudAppAdmin]: '158c047a-c907-4556-b7ef-446551a6b5f7',
};

/** The plain user (no directory role) as a row of the matrices. */
export const NO_ROLE = '(no role)';

const R = ROLES;
// Target rows the limited roles may act on, per actor role: "who can reset passwords" (also who can
// invalidate refresh tokens, i.e. revoke sessions).
const PASSWORD_LIMITED = [NO_ROLE, R.directoryReaders, R.guestInviter, R.passwordAdmin];
const PASSWORD_MATRIX: Record<string, readonly string[] | 'all'> = {
  [R.passwordAdmin]: PASSWORD_LIMITED,
  [R.helpdeskAdmin]: [...PASSWORD_LIMITED, R.helpdeskAdmin, R.messageCenterReader, R.reportsReader, R.uxSuccessManager, R.usageSummaryReportsReader],
  [R.authAdmin]: [...PASSWORD_LIMITED, R.authAdmin, R.messageCenterReader, R.reportsReader, R.uxSuccessManager, R.usageSummaryReportsReader],
  [R.userAdmin]: [...PASSWORD_LIMITED, R.groupsAdmin, R.helpdeskAdmin, R.messageCenterReader, R.reportsReader, R.userAdmin, R.uxSuccessManager, R.usageSummaryReportsReader],
  [R.privilegedAuthAdmin]: 'all',
  [R.globalAdmin]: 'all',
};
// "Who can perform sensitive actions": accountEnabled, passwordProfile, userPrincipalName, delete.
const SENSITIVE_MATRIX: Record<string, readonly string[] | 'all'> = {
  [R.authAdmin]: [NO_ROLE, R.authAdmin, R.directoryReaders, R.guestInviter, R.messageCenterReader, R.passwordAdmin, R.reportsReader, R.uxSuccessManager, R.usageSummaryReportsReader],
  [R.userAdmin]: [NO_ROLE, R.directoryReaders, R.groupsAdmin, R.guestInviter, R.helpdeskAdmin, R.messageCenterReader, R.passwordAdmin, R.reportsReader, R.userAdmin, R.uxSuccessManager, R.usageSummaryReportsReader],
  [R.privilegedAuthAdmin]: 'all',
  [R.globalAdmin]: 'all',
};

// "Manage user's authentication methods" (Entra's authentication-table include: Authentication Admin for
// "some users", Privileged Authentication Admin for all): delete a method, create a TAP, require
// re-register MFA, revoke MFA sessions. Authentication Admin's "some users" are the targets of its row
// in "who can reset passwords"; Helpdesk and User Administrators manage no methods.
const METHODS_MATRIX: Record<string, readonly string[] | 'all'> = {
  [R.authAdmin]: PASSWORD_MATRIX[R.authAdmin]!,
  [R.privilegedAuthAdmin]: 'all',
  [R.globalAdmin]: 'all',
};
// Reading a user's methods: whoever may manage them, and Global Reader (read only, TAP values never shown).
const METHODS_READ_MATRIX: Record<string, readonly string[] | 'all'> = {
  ...METHODS_MATRIX,
  [R.globalReader]: 'all',
};
// A user's effective authentication methods policy (spec §5 "View authentication methods policy"): whoever
// reads the user's methods, and Authentication Policy Administrator, who manages the policy (§10).
const METHODS_POLICY_READ_MATRIX: Record<string, readonly string[] | 'all'> = {
  ...METHODS_READ_MATRIX,
  [R.authPolicyAdmin]: 'all',
};
// Per-user MFA state (Graph beta authentication/requirements): Authentication Policy Administrator manages
// it for every user; Privileged Authentication Administrator and Global Administrator may too.
const MFA_STATE_MATRIX: Record<string, readonly string[] | 'all'> = {
  [R.authPolicyAdmin]: 'all',
  [R.privilegedAuthAdmin]: 'all',
  [R.globalAdmin]: 'all',
};

export type RightKind = 'password' | 'sensitive' | 'methods' | 'methodsRead' | 'methodsPolicyRead' | 'mfaState';

const MATRICES: Record<RightKind, Record<string, readonly string[] | 'all'>> = {
  password: PASSWORD_MATRIX,
  sensitive: SENSITIVE_MATRIX,
  methods: METHODS_MATRIX,
  methodsRead: METHODS_READ_MATRIX,
  methodsPolicyRead: METHODS_POLICY_READ_MATRIX,
  mfaState: MFA_STATE_MATRIX,
};

/** Whether an actor holding `actorRoles` may do a `kind` action on a target holding `targetRoles`. */
export function mayActOn(kind: RightKind, actorRoles: readonly string[], targetRoles: readonly string[]): boolean {
  const matrix = MATRICES[kind];
  const rows = targetRoles.length ? targetRoles : [NO_ROLE];
  return actorRoles.some((role) => {
    const allowed = matrix[role];
    if (allowed === 'all') return true;
    return !!allowed && rows.every((t) => allowed.includes(t));
  });
}

/** The roles that would allow a `kind` action on this target (for "403 naming the missing right"). */
export function rolesAllowedOn(kind: RightKind, targetRoles: readonly string[]): string[] {
  return Object.keys(MATRICES[kind]).filter((role) => mayActOn(kind, [role], targetRoles));
}

/** Who may assign and remove directory roles (delegated callers; apps need RoleManagement.ReadWrite.Directory). */
export const ROLE_ASSIGN_ROLES: readonly string[] = [ROLES.privilegedRoleAdmin, ROLES.globalAdmin];
/** Directory roles that may create, update and delete applications and their secrets (delegated). */
export const APP_WRITE_ROLES: readonly string[] = [ROLES.globalAdmin, ROLES.appAdmin, ROLES.cloudAppAdmin];
/** Directory roles that may manage groups (delegated). */
export const GROUP_WRITE_ROLES: readonly string[] = [ROLES.groupsAdmin, ROLES.userAdmin, ROLES.globalAdmin];
