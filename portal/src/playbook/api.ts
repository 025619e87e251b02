// The playbook's calls to /latchkey/v1 (docs/latchkey-api.md, "The compromised-account playbook") and the
// shapes of their answers. The Temporary Access Pass comes once, in the answer of the call that applied
// its step; the portal keeps it in the page's state only.
import { accessToken } from '../auth';
import { call } from '../api';

export const STEPS = ['disableAccount', 'requireReregisterMfa', 'resetPassword', 'revokeSessions', 'revokeMfaSessions', 'registrationPolicy', 'createTap', 'enableAccount'] as const;
export type StepName = (typeof STEPS)[number];

/** Each step's name as the admin reads it, and its effect in one line (spec §5). */
export const STEP_INFO: Record<StepName, { title: string; effect: string }> = {
  disableAccount: { title: 'Disable the account', effect: 'Signs the user out everywhere and refuses every sign-in until the account is enabled again.' },
  requireReregisterMfa: { title: 'Require re-register MFA', effect: 'Deletes authenticator apps, phones and OATH tokens, the attacker’s included; passkeys stay unless chosen below.' },
  resetPassword: { title: 'Reset the password', effect: 'Replaces the password with a random one nobody is shown, so the attacker’s password stops working.' },
  revokeSessions: { title: 'Revoke sessions', effect: 'Ends every browser session and refresh token of the user: every app must sign in again.' },
  revokeMfaSessions: { title: 'Revoke MFA sessions', effect: 'Forgets remembered MFA: the next sign-in asks for MFA again where it is required.' },
  registrationPolicy: { title: 'Protect security info registration', effect: 'Makes the tenant require MFA or a Temporary Access Pass to register security info (all users).' },
  createTap: { title: 'Issue a Temporary Access Pass', effect: 'Creates a pass, shown once, to hand to the user out of band; the user signs in with it.' },
  enableAccount: { title: 'Enable the account', effect: 'Lets the user sign in again, with the Temporary Access Pass.' },
};

export interface CredentialLine {
  kind: 'session' | 'grant';
  id: string;
  app: string;
  device: string;
  ip: string | null;
  lastUsedAt: string;
  refusal?: string;
}

export interface Change {
  property: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface StepPreview {
  step: StepName;
  number: number;
  title: string;
  allowed: boolean;
  reason?: string;
  skipped?: string;
  changes: Change[];
  endingCount: number;
  methods?: { id: string; type: string; fate: 'deleted' | 'deactivated' | 'kept' | 'added' }[];
  warnings: string[];
}

export interface PlaybookPreview {
  target: { id: string; userPrincipalName: string; displayName: string };
  steps: StepPreview[];
  ending: CredentialLine[];
  surviving: CredentialLine[];
  accessTokensLiveUntil: { app: string; until: string }[];
  nextSignIn: string;
  warnings: string[];
}

export interface StepResult {
  step: StepName;
  number: number;
  title: string;
  status: 'done' | 'skipped';
  note?: string;
  appliedDateTime: string;
  changes: Change[];
  ended: CredentialLine[];
  accessTokensLiveUntil: { app: string; until: string }[];
  /** only in the answer of the call that applied the TAP step */
  temporaryAccessPass?: string;
}

export interface Run {
  runId: string;
  target: { id: string };
  status: 'running' | 'completed' | 'failed';
  steps: StepName[];
  nextStep: StepName | null;
  error: string | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  completedDateTime: string | null;
  results: StepResult[];
}

export interface Report {
  run: Run;
  target: { id: string; userPrincipalName: string; displayName: string } | null;
  done: { number: number; step: string; title: string; status: 'done' | 'skipped'; note?: string; appliedDateTime: string; endedCount: number }[];
  notDone: { step: string; title: string }[];
  stillAlive: { accessTokens: { app: string; until: string }[]; sessionsAndGrants: CredentialLine[] };
}

export interface PlaybookInput {
  steps: StepName[];
  deleteMethodIds?: string[];
  tapLifetimeInMinutes?: number;
  tapIsUsableOnce?: boolean;
}

const base = '/latchkey/v1';

export function previewPlaybook(userId: string, input: PlaybookInput): Promise<PlaybookPreview> {
  return call<PlaybookPreview>(`${base}/users/${encodeURIComponent(userId)}/playbook`, { method: 'POST', body: { dryRun: true, ...input } });
}

export function applyPlaybook(userId: string, input: PlaybookInput, runId: string): Promise<Run> {
  return call<Run>(`${base}/users/${encodeURIComponent(userId)}/playbook`, { method: 'POST', body: { dryRun: false, runId, ...input } });
}

export function getRun(runId: string): Promise<Run> {
  return call<Run>(`${base}/playbook-runs/${encodeURIComponent(runId)}`);
}

export function resumeRun(runId: string): Promise<Run> {
  return call<Run>(`${base}/playbook-runs/${encodeURIComponent(runId)}/resume`, { method: 'POST', body: {} });
}

export function getReport(runId: string): Promise<Report> {
  return call<Report>(`${base}/playbook-runs/${encodeURIComponent(runId)}/report`);
}

/** The server's report as text, saved by the browser as a file (it never holds the TAP). */
export async function saveReport(runId: string): Promise<void> {
  const res = await fetch(`${base}/playbook-runs/${encodeURIComponent(runId)}/report?format=text`, { headers: { authorization: `Bearer ${await accessToken()}` } });
  if (!res.ok) throw new Error(`The server refused the report (${res.status}).`);
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `playbook-report-${runId}.txt`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The user's passkeys (Graph), which re-register keeps unless the admin chooses to delete them. */
export async function userPasskeys(userId: string): Promise<{ id: string; displayName: string | null; createdDateTime: string | null }[]> {
  const r = await call<{ value: { id: string; displayName?: string | null; createdDateTime?: string | null }[] }>(`/v1.0/users/${encodeURIComponent(userId)}/authentication/fido2Methods`);
  return r.value.map((m) => ({ id: m.id, displayName: m.displayName ?? null, createdDateTime: m.createdDateTime ?? null }));
}

export function when(v: string | null | undefined): string {
  return v ? new Date(v).toLocaleString() : '—';
}
