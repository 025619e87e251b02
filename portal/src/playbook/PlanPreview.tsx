// Step 2 of the wizard: the server's dry run of every chosen step, shown as one plan: each step and what
// it changes (or why it is skipped or refused), what ends now, what lives on and until when, how the user
// signs in next, and the warnings. Apply is offered only when the server allows every step.
import { Badge, Button, MessageBar, MessageBarBody, MessageBarTitle, Text } from '@fluentui/react-components';
import { type Change, type PlaybookPreview, when } from './api';
import { CredentialTable } from './parts';
import { usePlaybookStyles } from './styles';

const FATE: Record<string, string> = { deleted: 'deleted', deactivated: 'deactivated', kept: 'kept', added: 'added' };

/** A change as the server's dry run or run result says it (the server writes them true for the playbook). */
export function changeText(c: Change): string {
  const v = (x: string | null) => (x === null ? '—' : /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(x) ? new Date(x).toLocaleString() : x);
  return `${c.property}: ${v(c.oldValue)} → ${v(c.newValue)}`;
}

export function PlanPreview({ preview, onApply, onBack, busy }: { preview: PlaybookPreview; onApply: () => void; onBack: () => void; busy: boolean }) {
  const s = usePlaybookStyles();
  const refused = preview.steps.filter((st) => !st.allowed);
  const warnings = preview.warnings;
  return (
    <div id="playbookPreview">
      {warnings.length > 0 && (
        <MessageBar intent="warning" id="previewWarnings" layout="multiline">
          <MessageBarBody>
            <MessageBarTitle>Warnings</MessageBarTitle>
            <ul className={s.list}>
              {warnings.map((w) => (
                <li key={w} className={s.item}>
                  {w}
                </li>
              ))}
            </ul>
          </MessageBarBody>
        </MessageBar>
      )}
      <h3 className={s.sub}>The steps</h3>
      <ol className={s.steps} id="previewSteps">
        {preview.steps.map((st) => (
          <li key={st.step} className={s.stepCard} data-step={st.step} data-state={!st.allowed ? 'refused' : st.skipped ? 'skipped' : 'applies'}>
            <div className={s.stepHead}>
              <Text weight="semibold">
                {st.number}. {st.title}
              </Text>
              {!st.allowed ? (
                <Badge appearance="tint" color="danger">
                  Refused
                </Badge>
              ) : st.skipped ? (
                <Badge appearance="tint" color="informative">
                  Skipped
                </Badge>
              ) : (
                <Badge appearance="tint" color="brand">
                  Will apply
                </Badge>
              )}
            </div>
            {st.reason && <div className={s.detail}>{st.reason}</div>}
            {st.skipped && <div className={s.detail}>Skipped: {st.skipped}</div>}
            {st.changes.map((c) => (
              <div className={s.detail} key={c.property}>
                {changeText(c)}
              </div>
            ))}
            {st.methods?.map((m) => (
              <div className={s.detail} key={m.id}>
                Method {m.type}: {FATE[m.fate] ?? m.fate}
              </div>
            ))}
            {st.endingCount > 0 && <div className={s.detail}>Ends {st.endingCount} session(s) or refresh token(s).</div>}
            {st.warnings.map((w) => (
              <div className={s.detail} key={w}>
                Note: {w}
              </div>
            ))}
          </li>
        ))}
      </ol>
      <h3 className={s.sub} id="endingTitle">
        What ends now ({preview.ending.length})
      </h3>
      <CredentialTable id="previewEnding" lines={preview.ending} empty="No browser session or refresh token ends." caption="Signed out at once: the next use is refused." />
      <h3 className={s.sub}>What lives on</h3>
      <CredentialTable id="previewSurviving" lines={preview.surviving} empty="No session or refresh token of the user survives." caption="Not ended by the chosen steps." />
      <div id="previewAccessTokens">
        {preview.accessTokensLiveUntil.length === 0 ? (
          <Text as="p" block className={s.p}>
            No access token issued earlier outlives the run.
          </Text>
        ) : (
          <ul className={s.list}>
            {preview.accessTokensLiveUntil.map((a) => (
              <li key={a.app} className={s.item}>
                Access tokens already issued to {a.app} stay usable at APIs that do not check with Latchkey until {when(a.until)}.
              </li>
            ))}
          </ul>
        )}
      </div>
      <h3 className={s.sub}>How the user signs in next</h3>
      <Text as="p" block className={s.p} id="previewNextSignIn">
        {preview.nextSignIn}
      </Text>
      <div className={s.buttons}>
        <Button appearance="primary" id="applyPlaybook" disabled={busy || refused.length > 0} aria-describedby={refused.length ? 'applyRefused' : undefined} onClick={onApply}>
          Apply the playbook
        </Button>
        <Button id="backToSteps" onClick={onBack} disabled={busy}>
          Back
        </Button>
        {refused.length > 0 && (
          <Text className={s.reason} id="applyRefused">
            You may not apply step {refused.map((r) => r.number).join(', ')}: {refused[0]!.reason} Leave {refused.length > 1 ? 'them' : 'it'} out to go on.
          </Text>
        )}
      </div>
    </div>
  );
}
