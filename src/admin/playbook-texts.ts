// What the playbook says of each step: the actions' previews speak of an action done alone (a generated
// password "shown once after apply", "use Revoke sessions too"), which is not true inside the playbook, where
// the password is shown to nobody and the other steps do what those texts advise. Here each step's changes,
// methods and warnings are written for the playbook from the previews' facts and the steps chosen; what the
// playbook as a whole leaves undone is said once, in its own warnings.
import { strategy } from '../methods/index.js';
import type { Preview } from './action.js';
import { methodLabel } from './methods.js';

/** The playbook's steps, in the spec's order. */
export const STEPS = ['disableAccount', 'requireReregisterMfa', 'resetPassword', 'revokeSessions', 'revokeMfaSessions', 'registrationPolicy', 'createTap', 'enableAccount'] as const;
export type StepName = (typeof STEPS)[number];

export interface StepTexts {
  changes: Preview['changes'];
  methods?: Preview['methods'];
  warnings: string[];
}

/** The password a playbook sets: generated at apply and handed to nobody. */
export const PLAYBOOK_PASSWORD = '(random, shown to nobody)';

const unique = (xs: string[]) => [...new Set(xs)];

/** Step 2: re-register's methods, with those the extra deletions remove marked deleted; what is kept and still signs in. */
function reregisterTexts(previews: Preview[], chosen: ReadonlySet<StepName>): StepTexts {
  const [reregister, ...deletions] = previews;
  const extra = new Set(deletions.flatMap((p) => (p.methods ?? []).filter((m) => m.fate === 'deleted').map((m) => m.id)));
  const methods = (reregister?.methods ?? []).map((m) => (extra.has(m.id) ? { ...m, fate: 'deleted' as const } : m));
  const warnings: string[] = [];
  for (const m of methods) {
    if (m.fate === 'deleted') {
      if (m.type === 'temporaryAccessPass') warnings.push(`The sessions and refresh tokens signed in with the Temporary Access Pass ${m.id} end with it.`);
      continue;
    }
    if (m.type === 'password' || !strategy(m.type)?.satisfiesMfa) continue;
    if (m.type === 'temporaryAccessPass') {
      warnings.push(
        chosen.has('createTap')
          ? `The Temporary Access Pass ${m.id} is kept by this step; step 7 replaces it and ends the sessions and refresh tokens signed in with it.`
          : `The Temporary Access Pass ${m.id} is kept: while it is usable the user signs in with it. Choose it among the methods to delete if you did not issue it.`,
      );
    } else {
      warnings.push(`${methodLabel(m)} is kept and satisfies MFA: the user signs in with it and is not sent to registration. Choose it among the methods to delete if it may be the attacker's.`);
    }
  }
  if (!methods.some((m) => m.fate === 'deleted')) warnings.push('The user has no method that this step deletes: it changes nothing but the audit log.');
  return { changes: previews.flatMap((p) => p.changes), methods, warnings };
}

/**
 * A step's changes, methods and warnings as the playbook says them, from the previews of its actions
 * (planned against the user as they are now) and the steps chosen with it; `gone`: the methods an earlier
 * step deletes, no longer there when this one applies.
 */
export function stepTexts(step: StepName, previews: Preview[], steps: readonly StepName[], gone: ReadonlySet<string> = new Set()): StepTexts {
  if (!previews.length) return { changes: [], warnings: [] }; // skipped
  const chosen = new Set(steps);
  const changes = previews.flatMap((p) => p.changes);
  const methods = previews.find((p) => p.methods)?.methods;
  const own = unique(previews.flatMap((p) => p.warnings));
  switch (step) {
    case 'requireReregisterMfa':
      return reregisterTexts(previews, chosen);
    case 'resetPassword':
      return {
        changes: changes.map((c) => (c.property === 'password' ? { ...c, newValue: PLAYBOOK_PASSWORD } : c)),
        warnings: chosen.has('createTap') ? [] : ['The new password is shown to nobody and no Temporary Access Pass is issued: the user cannot sign in with a password until it is reset again.'],
      };
    case 'revokeMfaSessions':
      return {
        changes,
        warnings: chosen.has('revokeSessions')
          ? []
          : ['Remembered-MFA devices are forgotten, and the MFA recorded in refresh tokens issued before no longer counts: a refresh for a resource that requires MFA is refused (AADSTS50076). Browser sessions keep their MFA.'],
      };
    case 'createTap': {
      const left = (methods ?? []).filter((m) => !gone.has(m.id));
      const replaced = left.filter((m) => m.type === 'temporaryAccessPass' && m.fate === 'deleted');
      return { changes, methods: left, warnings: replaced.map((m) => `The existing Temporary Access Pass ${m.id} is deleted; the sessions and refresh tokens signed in with it end.`) };
    }
    case 'enableAccount':
      // after step 1 the account is disabled, whatever it is now
      return chosen.has('disableAccount')
        ? { changes: changes.map((c) => (c.property === 'accountEnabled' ? { ...c, oldValue: 'false' } : c)), warnings: ['Sessions and refresh tokens issued before step 1 disabled the account stay dead: the user signs in again.'] }
        : { changes, warnings: own };
    default:
      // disable the account, revoke sessions: their previews' warnings are facts about the user, true here too
      return { changes, ...(methods ? { methods } : {}), warnings: own };
  }
}

/** What the chosen steps leave undone, said once for the whole playbook. */
export function playbookWarnings(steps: readonly StepName[]): string[] {
  const chosen = new Set(steps);
  const warnings: string[] = [];
  if (!chosen.has('requireReregisterMfa')) warnings.push('Step 2 (Require re-register MFA) is not chosen: a method an attacker added still works.');
  if (!chosen.has('revokeSessions')) warnings.push("Step 4 (Revoke sessions) is not chosen: the browser sessions and refresh tokens no chosen step ends stay signed in, an attacker's included.");
  if (!chosen.has('revokeSessions') && !chosen.has('revokeMfaSessions')) warnings.push('Neither step 4 (Revoke sessions) nor step 5 (Revoke MFA sessions) is chosen: remembered MFA still counts.');
  if (chosen.has('disableAccount') && !chosen.has('enableAccount')) warnings.push('The account stays disabled: the user cannot sign in until it is enabled.');
  if (!chosen.has('createTap')) warnings.push('No Temporary Access Pass is issued: the user needs another way to sign in and register again.');
  return warnings;
}
