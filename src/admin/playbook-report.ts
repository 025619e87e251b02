// The playbook run's report (spec §5): what was done, step by step, and what is still alive and until
// when (access tokens already issued, which are not CAE-revocable, and whatever the chosen steps left
// alive), as JSON and as printable text and HTML. It is built from the run's stored results, which never
// hold the Temporary Access Pass, so no form of the report can show it.
import { escapeHtml } from '../signin/html.js';
import { type ActionContext, type CredentialLine, line, loadTarget } from './action.js';
import { userCredentials, whatDies } from './credentials.js';
import { type RunView, type StepResult, STEP_TITLES, runView } from './playbook.js';
import type { PlaybookRunTable } from '../storage/schema.js';

export interface PlaybookReport {
  run: RunView;
  target: { id: string; userPrincipalName: string; displayName: string } | null;
  done: { number: number; step: string; title: string; status: StepResult['status']; note?: string; appliedDateTime: string; endedCount: number }[];
  notDone: { step: string; title: string }[];
  stillAlive: {
    /** access tokens issued before the run stay usable at APIs that do not ask Latchkey, until they expire */
    accessTokens: { app: string; until: string }[];
    sessionsAndGrants: CredentialLine[];
  };
}

export async function buildReport(ctx: ActionContext, row: PlaybookRunTable): Promise<PlaybookReport> {
  const run = runView(row);
  const target = await loadTarget(ctx.db, ctx.tenantId, row.target_id).catch(() => undefined);
  const live = new Map<string, number>();
  for (const r of run.results) for (const a of r.accessTokensLiveUntil) live.set(a.app, Math.max(live.get(a.app) ?? 0, Date.parse(a.until)));
  const now = Date.now();
  // what the user holds that the validity rule still lets through (rows of ended sessions and grants stay)
  const alive = target ? whatDies(target.user, target.user, await userCredentials(ctx.db, ctx.secrets, target.user.id)).surviving : [];
  return {
    run,
    target: target ? { id: target.user.id, userPrincipalName: target.user.upn, displayName: target.user.display_name } : null,
    done: run.results.map((r) => ({ number: r.number, step: r.step, title: r.title, status: r.status, ...(r.note ? { note: r.note } : {}), appliedDateTime: r.appliedDateTime, endedCount: r.ended.length })),
    notDone: run.steps.slice(run.results.length).map((s) => ({ step: s, title: STEP_TITLES[s] })),
    stillAlive: {
      accessTokens: [...live].filter(([, until]) => until > now).map(([app, until]) => ({ app, until: new Date(until).toISOString() })),
      sessionsAndGrants: alive.map((c) => line(c)),
    },
  };
}

export function reportText(r: PlaybookReport): string {
  const who = r.target ? `${r.target.displayName} <${r.target.userPrincipalName}> (${r.target.id})` : `${r.run.target.id} (deleted)`;
  const lines = [`Compromised-account playbook for ${who}`, `run ${r.run.runId}: ${r.run.status}, started ${r.run.createdDateTime}${r.run.completedDateTime ? `, completed ${r.run.completedDateTime}` : ''}`, '', 'What was done:'];
  for (const d of r.done) lines.push(`  ${d.number}. ${d.title}: ${d.status}${d.note ? ` (${d.note})` : ''} at ${d.appliedDateTime}${d.endedCount ? `; ${d.endedCount} sessions and grants ended` : ''}`);
  if (!r.done.length) lines.push('  nothing yet');
  if (r.notDone.length) lines.push('Not done yet:', ...r.notDone.map((s) => `  - ${s.title}`));
  if (r.run.error) lines.push(`Stopped: ${r.run.error}`);
  lines.push('', 'Still alive:');
  if (r.stillAlive.accessTokens.length) lines.push(...r.stillAlive.accessTokens.map((a) => `  access tokens of ${a.app} already issued, usable at APIs that do not check with Latchkey until ${a.until}`));
  lines.push(...r.stillAlive.sessionsAndGrants.map((l) => `  ${l.kind} ${l.id}: ${l.app}, ${l.device}${l.ip ? `, ${l.ip}` : ''}, last used ${l.lastUsedAt}`));
  if (!r.stillAlive.accessTokens.length && !r.stillAlive.sessionsAndGrants.length) lines.push('  nothing');
  return lines.join('\n');
}

export function reportHtml(r: PlaybookReport): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Playbook report</title></head><body><pre id="report">${escapeHtml(reportText(r))}</pre></body></html>`;
}
