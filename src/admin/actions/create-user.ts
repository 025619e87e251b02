// Create user (Graph POST /users): a member of the tenant's verified domain with an initial password.
// Audited as `Add user`; the outbox gets `user.created`.
import { hashPassword } from '../../crypto/secrets.js';
import { type User, createUser } from '../../directory/users.js';
import { checkNewPassword } from '../../signin/password-policy.js';
import type { Db } from '../../storage/db.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, checkPermission, commitChange, newChangePlan } from '../change.js';
import { mayActOn } from '../roles.js';

export const WRITE_DELEGATED = ['User.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
export const WRITE_APP = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];

export interface CreateUserInput {
  userPrincipalName: string;
  displayName: string;
  mail?: string;
  accountEnabled: boolean;
  password: string;
  forceChangePasswordNextSignIn: boolean;
}

function checkCreate(actor: Actor): void {
  checkPermission(actor, WRITE_DELEGATED, WRITE_APP);
  if (actor.kind === 'user' && !mayActOn('sensitive', actor.roles, [])) throw new ActionError('forbidden', 'Insufficient privileges to complete the operation: creating users needs the User Administrator role or higher.', 'User Administrator');
}

const duplicate = () => new ActionError('duplicate', 'Another object with the same value for property userPrincipalName already exists.');

/** A new userPrincipalName: name@domain in the tenant's verified domain, not taken (case-insensitive). */
export async function checkNewUpn(db: Db, tenantId: string, upn: string, exceptUserId?: string): Promise<void> {
  if (!/^[^@\s]+@[^@\s]+$/.test(upn)) throw new ActionError('invalid', "Property 'userPrincipalName' must be name@domain.");
  const tenant = await db.selectFrom('tenants').select('domain').where('id', '=', tenantId).executeTakeFirstOrThrow();
  if (upn.split('@')[1]!.toLowerCase() !== tenant.domain) throw new ActionError('invalid', `The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization (${tenant.domain}).`);
  const taken = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('upn_lower', '=', upn.toLowerCase()).executeTakeFirst();
  if (taken && taken.id !== exceptUserId) throw duplicate();
}

export async function plan(ctx: ActionContext, actor: Actor, input: CreateUserInput): Promise<ChangePlan<Omit<CreateUserInput, 'password'> & { passwordHash: string }>> {
  checkCreate(actor);
  await checkNewUpn(ctx.db, ctx.tenantId, input.userPrincipalName);
  const problem = checkNewPassword(input.password, { minLength: ctx.config.passwordMinLength, userName: input.userPrincipalName });
  if (problem) throw new ActionError('invalid', `The specified password does not comply with password complexity requirements: ${problem}`);
  const { password, ...rest } = input;
  return newChangePlan({
    action: 'createUser',
    actor,
    // the plan holds the password's hash only
    input: { ...rest, passwordHash: await hashPassword(password) },
    preview: {
      action: 'createUser',
      target: { type: 'User', id: '(assigned at apply)', displayName: input.displayName },
      changes: [
        { property: 'userPrincipalName', oldValue: null, newValue: input.userPrincipalName },
        { property: 'accountEnabled', oldValue: null, newValue: String(input.accountEnabled) },
        { property: 'passwordProfile.forceChangePasswordNextSignIn', oldValue: null, newValue: String(input.forceChangePasswordNextSignIn) },
      ],
      warnings: [],
    },
  });
}

export async function apply(ctx: ActionContext, plan: ChangePlan<Omit<CreateUserInput, 'password'> & { passwordHash: string }>): Promise<ChangeResult<User>> {
  const i = plan.input;
  try {
    return await commitChange(ctx, plan, async (trx, actor) => {
      checkCreate(actor);
      const user = await createUser(trx, { tenantId: ctx.tenantId, upn: i.userPrincipalName, displayName: i.displayName, mail: i.mail ?? null, passwordHash: i.passwordHash, accountEnabled: i.accountEnabled, forceChangePassword: i.forceChangePasswordNextSignIn });
      return {
        value: user,
        audit: [{ activity: 'Add user', service: 'Core Directory', operationType: 'Add', target: { id: user.id, name: user.upn }, modified: [{ displayName: 'AccountEnabled', oldValue: null, newValue: String(i.accountEnabled) }] }],
        event: { type: 'user.created', payload: { userId: user.id } },
      };
    });
  } catch (e) {
    // a concurrent create of the same UPN lost the race on the unique index
    const now = await ctx.db.selectFrom('users').select('id').where('tenant_id', '=', ctx.tenantId).where('upn_lower', '=', i.userPrincipalName.toLowerCase()).executeTakeFirst();
    if (now && !(e instanceof ActionError)) throw duplicate();
    throw e;
  }
}
