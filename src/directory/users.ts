// Users of the directory: UPN (unique, case-insensitive), display name, password (argon2id), accountEnabled,
// and the stamps the validity rule reads (spec §1).
import crypto from 'node:crypto';
import type { Db } from '../storage/db.js';
import type { UserTable } from '../storage/schema.js';
import { hashPassword } from '../crypto/secrets.js';
import { statement } from '../storage/statements.js';

export type User = UserTable;

export interface NewUser {
  tenantId: string;
  upn: string;
  displayName: string;
  mail?: string | null;
  password?: string | null;
  /** an argon2id hash computed before (outside the caller's transaction); wins over `password` */
  passwordHash?: string;
  accountEnabled?: boolean;
  forceChangePassword?: boolean;
  roles?: string[];
  id?: string;
}

export async function createUser(db: Db, u: NewUser): Promise<User> {
  const now = Date.now();
  const row: User = {
    id: u.id ?? crypto.randomUUID(),
    tenant_id: u.tenantId,
    upn: u.upn,
    upn_lower: u.upn.toLowerCase(),
    display_name: u.displayName,
    mail: u.mail ?? null,
    password_hash: u.passwordHash ?? (u.password ? await hashPassword(u.password) : null),
    account_enabled: u.accountEnabled === false ? 0 : 1,
    force_change_password: u.forceChangePassword ? 1 : 0,
    force_change_password_mfa: 0,
    last_password_change_at: now,
    sign_in_sessions_valid_from: now,
    mfa_remembered_valid_from: now,
    disabled_at: null,
    admin_reset_at: null,
    created_at: now,
    per_user_mfa_state: 'disabled',
    preferred_mfa_method: null,
    system_preferred_mfa: null,
  };
  const write = async (trx: Db) => {
    await trx.insertInto('users').values(row).execute();
    for (const role of u.roles ?? []) await trx.insertInto('user_roles').values({ user_id: row.id, role }).execute();
  };
  // inside a caller's transaction (user and audit record together), or in one of its own
  await (db.isTransaction ? write(db) : db.transaction().execute(write));
  return row;
}

const userById = statement((db, id: string) => db.selectFrom('users').selectAll().where('id', '=', id));
const userByUpn = statement((db, tenantId: string, upnLower: string) => db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('upn_lower', '=', upnLower));

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  return (await userById(db, id)).rows[0];
}

export async function findUserByUpn(db: Db, tenantId: string, upn: string): Promise<User | undefined> {
  return (await userByUpn(db, tenantId, upn.trim().toLowerCase())).rows[0];
}

export async function userRoles(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_roles').select('role').where('user_id', '=', userId).execute();
  return rows.map((r) => r.role);
}

/** The user's own password change (forced at sign-in): a new hash and lastPasswordChangeDateTime = now. */
export async function setOwnPassword(db: Db, userId: string, password: string, at = Date.now(), expectedHash?: string): Promise<boolean> {
  const password_hash = await hashPassword(password);
  let q = db.updateTable('users').set({ password_hash, last_password_change_at: at, force_change_password: 0, force_change_password_mfa: 0 }).where('id', '=', userId);
  // only if the password is still the one the user just proved (an admin reset in between wins)
  if (expectedHash !== undefined) q = q.where('password_hash', '=', expectedHash);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
