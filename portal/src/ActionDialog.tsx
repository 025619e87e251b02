// The confirm panel of an action: the server's dry run (what changes, what ends now, what lives on, how
// the user signs in next, warnings) is shown before Apply; Apply applies exactly that plan. A plan that
// went stale or expired (412) is planned again and shown refreshed instead of being applied.
import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { ApiError, type ApplyResult, type EndingItem, type PlanDoc, applyPlan, call, dryRun, methodTypeLabel, sameOriginPath } from './api';
import { ErrorBar } from './ErrorBar';
import { useClosing } from './kit/closing';

const useStyles = makeStyles({
  surface: { maxWidth: 'min(640px, calc(100vw - 24px))' },
  section: { marginTop: tokens.spacingVerticalM },
  h: { fontSize: tokens.fontSizeBase300, fontWeight: tokens.fontWeightSemibold, margin: `0 0 ${tokens.spacingVerticalXS}` },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  item: { overflowWrap: 'anywhere' },
  password: { fontFamily: tokens.fontFamilyMonospace },
  p: { margin: `0 0 ${tokens.spacingVerticalXS}` },
});

const LABELS: Record<string, string> = {
  signInSessionsValidFromDateTime: 'Sign-in sessions valid from',
  accountEnabled: 'Account enabled',
  lastPasswordChangeDateTime: 'Last password change',
  'passwordProfile.password': 'Password',
  'passwordProfile.forceChangePasswordNextSignIn': 'Must change password at next sign-in',
  'passwordProfile.forceChangePasswordNextSignInWithMfa': 'Must do MFA, then change password, at next sign-in',
  perUserMfaState: 'Per-user MFA state',
  mfaRememberedValidFrom: 'Remembered MFA valid from',
  'temporaryAccessPass.startDateTime': 'Temporary Access Pass usable from',
  'temporaryAccessPass.expiresDateTime': 'Temporary Access Pass usable until',
  'temporaryAccessPass.isUsableOnce': 'Temporary Access Pass one-time',
};

const FATES: Record<string, string> = { deleted: 'deleted', deactivated: 'deactivated', kept: 'kept', added: 'added' };

/** A preview value as a person reads it: dates in the browser's locale. */
function shown(v: unknown): string {
  if (v === null || v === undefined) return '—';
  const text = String(v);
  return /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(text) ? new Date(text).toLocaleString() : text;
}

/** A preview list: its first page, then the next pages on request (the plan's `@odata.nextLink`). */
function Items({ first, next, count, empty, name }: { first: EndingItem[]; next?: string; count: number; empty: string; name: string }) {
  const s = useStyles();
  const [items, setItems] = useState(first);
  const [link, setLink] = useState(next);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (!items.length)
    return (
      <Text as="p" block className={s.p}>
        {empty}
      </Text>
    );
  async function more() {
    if (!link) return;
    setBusy(true);
    setError(undefined);
    try {
      const page = await call<{ value: EndingItem[]; '@odata.nextLink'?: string }>(sameOriginPath(link));
      setItems((had) => [...had, ...page.value]);
      setLink(page['@odata.nextLink']);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <ul className={s.list} id={`${name}List`}>
        {items.map((c) => (
          <li key={`${c.kind}-${c.id}`} className={s.item} data-kind={c.kind} data-id={c.id}>
            {c.kind === 'session' ? 'Browser session' : 'Refresh token'} · {c.app ?? 'unknown app'}
            {c.device ? ` · ${c.device.length > 48 ? `${c.device.slice(0, 47)}…` : c.device}` : ''}
            {c.ip ? ` · ${c.ip}` : ''}
            {c.lastUsedAt ? ` · last used ${new Date(c.lastUsedAt).toLocaleString()}` : ''}
          </li>
        ))}
      </ul>
      {link && (
        <Button id={`${name}More`} size="small" disabled={busy} onClick={() => void more()}>
          Show more ({items.length} of {count} shown)
        </Button>
      )}
      {error !== undefined && <ErrorBar error={error} />}
    </>
  );
}

function PreviewView({ plan }: { plan: PlanDoc }) {
  const s = useStyles();
  const p = plan.preview;
  return (
    <div id="preview">
      {p.warnings && p.warnings.length > 0 && (
        <MessageBar intent="warning" className={s.section} id="previewWarnings">
          <MessageBarBody>
            <MessageBarTitle>Warnings</MessageBarTitle>
            {p.warnings.join(' ')}
          </MessageBarBody>
        </MessageBar>
      )}
      {p.methods && p.methods.length > 0 && (
        <div className={s.section} id="previewMethods">
          <h3 className={s.h}>Authentication methods</h3>
          <ul className={s.list}>
            {p.methods.map((m) => (
              <li key={m.id} className={s.item} data-fate={m.fate}>
                {methodTypeLabel(m.type)} {m.id}: {FATES[m.fate] ?? m.fate}
              </li>
            ))}
          </ul>
        </div>
      )}
      {p.changes.length > 0 && (
        <div className={s.section}>
          <h3 className={s.h}>What changes</h3>
          <ul className={s.list}>
            {p.changes.map((c) => (
              <li key={c.property} className={s.item} data-property={c.property} data-old={c.oldValue === null || c.oldValue === undefined ? '' : String(c.oldValue)} data-new={c.newValue === null || c.newValue === undefined ? '' : String(c.newValue)}>
                {LABELS[c.property] ?? c.property}: {shown(c.oldValue)} → {shown(c.newValue)}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className={s.section} id="previewEnding">
        <h3 className={s.h}>What ends now ({p.endingCount})</h3>
        <Items key={`${plan.planId}-ending`} name="ending" first={p.ending} next={p['ending@odata.nextLink']} count={p.endingCount} empty="No session or refresh token ends." />
      </div>
      <div className={s.section} id="previewSurviving">
        <h3 className={s.h}>What lives on ({p.survivingCount})</h3>
        <Items key={`${plan.planId}-surviving`} name="surviving" first={p.surviving} next={p['surviving@odata.nextLink']} count={p.survivingCount} empty="Nothing the user holds survives." />
        {(p.accessTokensLiveUntil ?? []).map((a) => (
          <Text as="p" block key={a.app} className={s.p}>
            Access tokens already issued to {a.app} stay usable until {new Date(a.until).toLocaleString()}.
          </Text>
        ))}
      </div>
      <div className={s.section} id="previewNextSignIn">
        <h3 className={s.h}>How the user signs in next</h3>
        <Text>{p.nextSignIn ?? '—'}</Text>
      </div>
    </div>
  );
}

/** `input`: the action's input for its dry runs; `plan`: a dry run already made with it (a form that checked its input through the server). */
export function ActionDialog(props: { userId: string; action: string; label: string; userName: string; input?: Record<string, unknown>; plan?: PlanDoc; opener?: HTMLElement | null; onClose: () => void; onDeleted: () => void }) {
  const s = useStyles();
  const qc = useQueryClient();
  const [plan, setPlan] = useState<PlanDoc | undefined>(props.plan);
  const [refreshed, setRefreshed] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(!props.plan);
  const [result, setResult] = useState<ApplyResult | undefined>();

  async function planIt() {
    setBusy(true);
    setError(undefined);
    try {
      setPlan(await dryRun(props.userId, props.action, props.input));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    if (!props.plan) void planIt();
  }, []);

  async function apply() {
    if (!plan) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await applyPlan(plan.planId);
      setResult(r);
      // everything read about this user (its overview, actions, methods, sessions...) and the users list
      await qc.invalidateQueries({ predicate: (q) => q.queryKey[1] === props.userId || q.queryKey[0] === 'users' });
      setBusy(false);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        setRefreshed(e.message);
        await planIt();
        return;
      }
      setError(e);
      setBusy(false);
    }
  }

  const done = result !== undefined;
  // closed the way Fluent closes a dialog, the focus given back to its opener (kit/closing.ts)
  const closing = useClosing<boolean>((deleted) => {
    if (deleted) props.onDeleted();
    props.onClose();
  }, props.opener);
  const close = () => closing.close(done && props.action === 'deleteUser');

  return (
    <Dialog open={closing.open} surfaceMotion={closing.surfaceMotion} modalType="alert" onOpenChange={(_, d) => !d.open && close()}>
      <DialogSurface className={s.surface} aria-describedby={undefined}>
        <DialogBody>
          <DialogTitle>
            {props.label}: {props.userName}
          </DialogTitle>
          <DialogContent tabIndex={0} role="region" aria-label="Preview and result">
            {busy && <Spinner label={plan ? 'Applying…' : 'Preparing the preview…'} />}
            {error !== undefined && <ErrorBar error={error} />}
            {!done && refreshed && (
              <MessageBar intent="info" className={s.section} id="planRefreshed">
                <MessageBarBody>
                  <MessageBarTitle>The preview was out of date</MessageBarTitle>
                  {refreshed} This is the preview as things are now; apply again if it is still what you want.
                </MessageBarBody>
              </MessageBar>
            )}
            {!done && plan && <PreviewView plan={plan} />}
            {done && (
              <div id="applyResult">
                <MessageBar intent="success">
                  <MessageBarBody>
                    <MessageBarTitle>Done</MessageBarTitle>
                    {props.label} applied; {result.endedCount} session(s) or token(s) ended.
                  </MessageBarBody>
                </MessageBar>
                {result.temporaryAccessPass && (
                  <Field className={s.section} label="Temporary Access Pass (shown this once: copy it now)">
                    <Input id="temporaryAccessPass" readOnly value={result.temporaryAccessPass} className={s.password} />
                  </Field>
                )}
                {result.newPassword && (
                  <Field className={s.section} label="Temporary password (shown this once: copy it now)">
                    <Input id="newPassword" readOnly value={result.newPassword} className={s.password} />
                  </Field>
                )}
              </div>
            )}
          </DialogContent>
          <DialogActions>
            {!done && (
              <Button appearance="primary" id="applyButton" disabled={busy || !plan} onClick={() => void apply()}>
                Apply
              </Button>
            )}
            <Button appearance="secondary" id="closeButton" onClick={close}>
              {done ? 'Close' : 'Cancel'}
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
