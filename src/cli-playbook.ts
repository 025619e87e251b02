// Command-line commands for a user's sessions and apps (spec D25) and the compromised-account playbook
// (spec §5), as the local operator: `sessions list`, `grants list`, `playbook`. Ending one session or grant
// is the registry's end-session / end-grant action (`sessions end <user> <id>` and `grants end <user> <id>`
// are its verb-noun spellings, rewritten by src/cli.ts).
import type { ActionContext } from './admin/action.js';
import type { Actor } from './admin/actor.js';
import { type PlaybookPreview, STEPS, applyRun, parsePlaybookInput, previewPlaybook, startRun } from './admin/playbook.js';
import { buildReport, reportText } from './admin/playbook-report.js';
import { sessionsAndApps } from './admin/sessions-and-apps.js';
import { CliUsageError, confirm, escapeControls, optionValue, say } from './cli-kit.js';

export const EXTRA_HELP: Record<string, string> = {
  'sessions list': 'usage: npm run cli -- sessions list <user> [--json]\n\nLists the user\'s live browser sessions: id, device, IP address, apps, created, last use, MFA.',
  'grants list': 'usage: npm run cli -- grants list <user> [--json]\n\nLists the user\'s refresh-token grants: id, app, created, last use.',
  'sessions end': 'usage: npm run cli -- sessions end <user> <sessionId> [--dry-run] [--yes] [--json]\n\nEnds one browser session (end-session): its codes die, its apps get back-channel logout; the rest lives on.',
  'grants end': 'usage: npm run cli -- grants end <user> <grantId> [--dry-run] [--yes] [--json]\n\nEnds one refresh-token grant (end-grant): its chain dies; the rest lives on.',
  playbook: [
    'usage: npm run cli -- playbook <user> [--steps a,b,...] [--dry-run] [--yes] [--json]',
    '',
    'Runs the compromised-account playbook: previews every chosen step, asks, then applies them in order, each audited.',
    `Steps (default all, applied in this order): ${STEPS.join(', ')}.`,
    'The Temporary Access Pass is printed once; the report printed at the end does not hold it.',
  ].join('\n'),
};

const OPERATOR: Actor = { kind: 'system', id: 'system', displayName: 'Latchkey command line' };

export async function sessionsList(ctx: ActionContext, list: 'sessions' | 'grants', args: string[]): Promise<number> {
  for (const a of args) if (a.startsWith('-') && a !== '--json') throw new CliUsageError(`unknown option ${a} for ${list} list`);
  const users = args.filter((a) => !a.startsWith('-'));
  if (users.length !== 1) throw new CliUsageError(`${list} list takes exactly one user (id or UPN)`);
  const all = await sessionsAndApps(ctx, OPERATOR, users[0]!, { grants: list === 'grants' });
  if (args.includes('--json')) {
    console.log(JSON.stringify({ target: all.target, value: all[list] }, null, 2));
    return 0;
  }
  say(`${list} of ${all.target.displayName} <${all.target.userPrincipalName}>`);
  if (list === 'sessions') for (const s of all.sessions) say(`  ${s.id}  ${s.userAgent}  ${s.ipAddress}  apps: ${s.apps.map((a) => a.displayName).join(', ') || '-'}  created ${s.createdDateTime}  last used ${s.lastUsedDateTime}  MFA ${s.mfaDateTime ?? 'no'}`);
  else for (const g of all.grants) say(`  ${g.id}  ${g.appDisplayName}  created ${g.createdDateTime}  last used ${g.lastUsedDateTime}`);
  if (!all[list].length) say('  none');
  return 0;
}

function previewText(p: PlaybookPreview): string {
  const lines = [`playbook for ${p.target.displayName} <${p.target.userPrincipalName}> (${p.target.id})`, ''];
  for (const s of p.steps) lines.push(`  ${s.number}. ${s.title}${s.allowed ? '' : `  REFUSED: ${s.reason ?? ''}`}${s.skipped ? `  (skipped: ${s.skipped})` : ''}${s.endingCount ? `  ends ${s.endingCount}` : ''}`);
  lines.push('', `ends now (${p.ending.length}):`, ...p.ending.map((l) => `  ${l.kind} ${l.app}  ${l.device}${l.ip ? `  ${l.ip}` : ''}`));
  lines.push(`survives (${p.surviving.length})`);
  if (p.accessTokensLiveUntil.length) lines.push('access tokens already issued stay usable until they expire:', ...p.accessTokensLiveUntil.map((a) => `  ${a.app} until ${a.until}`));
  lines.push(`next sign-in: ${p.nextSignIn}`);
  if (p.warnings.length) lines.push('warnings:', ...p.warnings.map((w) => `  - ${w}`));
  return lines.join('\n');
}

export async function playbook(ctx: ActionContext, args: string[]): Promise<number> {
  const positional: string[] = [];
  const o = { dryRun: false, yes: false, json: false, steps: undefined as string[] | undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--dry-run') o.dryRun = true;
    else if (a === '--yes' || a === '-y') o.yes = true;
    else if (a === '--json') o.json = true;
    else if (a === '--steps') o.steps = optionValue(args, i++).split(',').filter(Boolean);
    else if (a.startsWith('-')) throw new CliUsageError(`unknown option ${a} for playbook`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new CliUsageError('playbook takes exactly one user (id or UPN)');
  const input = parsePlaybookInput(o.steps ? { steps: o.steps } : {});
  const preview = await previewPlaybook(ctx, OPERATOR, positional[0]!, input);
  if (!o.json) say(previewText(preview));
  if (o.dryRun) {
    if (o.json) console.log(JSON.stringify({ preview }, null, 2));
    else say('\n(dry run: nothing was changed)');
    return 0;
  }
  if (!o.yes) {
    if (!process.stdin.isTTY) {
      console.error('not applied: the playbook is destructive; pass --yes to apply without a prompt (stdin is not a terminal)');
      return 4;
    }
    // with --json the preview is not on stdout yet: show it with the question
    if (!(await confirm(`\nRun the playbook on ${escapeControls(preview.target.userPrincipalName)}? [y/N] `, o.json ? previewText(preview) : undefined))) return (console.error('not applied'), 4);
  }
  const { row } = await startRun(ctx, OPERATOR, preview.target.id, input);
  const out = await applyRun(ctx, OPERATOR, row.id);
  const report = await buildReport(ctx, out.row);
  if (o.json) console.log(JSON.stringify({ preview, report, ...(out.temporaryAccessPass ? { temporaryAccessPass: out.temporaryAccessPass } : {}) }, null, 2));
  else {
    say(`\n${reportText(report)}`);
    if (out.temporaryAccessPass) say(`\nTemporary Access Pass (shown once, hand it over out of band): ${out.temporaryAccessPass}`);
  }
  return 0;
}
