// The compromised-account playbook's wizard at /admin/users/{id}/playbook (spec §5): (1) choose the steps,
// (2) review the whole plan (the server's dry run), (3) apply: a run whose id is shown at once, its steps
// shown as they commit, the Temporary Access Pass shown once in its step's result, (4) the report. Each
// step's heading takes the focus when it opens; everything works with the keyboard alone.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Link, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text, Title2 } from '@fluentui/react-components';
import { type GraphUser, ApiError, call } from '../api';
import { signedInAccount } from '../auth';
import { ErrorBar } from '../ErrorBar';
import { navigate } from '../router';
import { type PlaybookInput, type PlaybookPreview, type Run, applyPlaybook, previewPlaybook } from './api';
import { type ChoiceState, ChooseSteps, defaultChoice } from './ChooseSteps';
import { StepHeading, Stepper } from './parts';
import { PlanPreview } from './PlanPreview';
import { ReportView } from './ReportView';
import { RunProgress } from './RunProgress';
import { usePlaybookStyles } from './styles';
import { useRunPolling } from './useRunPolling';

type Stage = 'choose' | 'preview' | 'apply' | 'report';

function go(path: string) {
  return (e: React.MouseEvent) => {
    e.preventDefault();
    navigate(path);
  };
}

export default function PlaybookPage({ userId }: { userId: string }) {
  const s = usePlaybookStyles();
  const qc = useQueryClient();
  const user = useQuery({ queryKey: ['user', userId], queryFn: () => call<GraphUser>(`/v1.0/users/${encodeURIComponent(userId)}?$select=id,displayName,userPrincipalName,accountEnabled`) });
  const [stage, setStage] = useState<Stage>('choose');
  const [choice, setChoice] = useState<ChoiceState>(defaultChoice);
  const [input, setInput] = useState<PlaybookInput | undefined>();
  const [preview, setPreview] = useState<PlaybookPreview | undefined>();
  const [runId, setRunId] = useState<string | undefined>();
  const [run, setRun] = useState<Run | undefined>();
  const [tap, setTap] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [applying, setApplying] = useState(false);
  const [error, setError] = useState<unknown>();
  useRunPolling(runId, applying, (r) => setRun((old) => (old && old.results.length > r.results.length ? old : r)));

  const u = user.data;
  const userPath = `/admin/users/${encodeURIComponent(userId)}`;
  const self = u !== undefined && signedInAccount()?.oid === u.id;

  async function review(next: PlaybookInput) {
    setBusy(true);
    setError(undefined);
    try {
      setPreview(await previewPlaybook(userId, next));
      setInput(next);
      setStage('preview');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function apply() {
    if (!input) return;
    const id = crypto.randomUUID();
    setRunId(id);
    setRun(undefined);
    setError(undefined);
    setStage('apply');
    setApplying(true);
    try {
      const done = await applyPlaybook(userId, input, id);
      setRun(done);
      setTap(done.results.find((r) => r.step === 'createTap')?.temporaryAccessPass);
    } catch (e) {
      setError(e);
    } finally {
      setApplying(false);
      await qc.invalidateQueries({ queryKey: ['user', userId] });
      await qc.invalidateQueries({ queryKey: ['actions', userId] });
      await qc.invalidateQueries({ queryKey: ['users'] });
    }
  }

  const stageIndex = { choose: 0, preview: 1, apply: 2, report: 3 }[stage];
  return (
    <section aria-labelledby="playbookTitle">
      <Link className={s.back} href={userPath} onClick={go(userPath)} id="backToUser">
        ← {u ? u.displayName : 'The user'}
      </Link>
      <Title2 as="h1" id="playbookTitle" block>
        Compromised account{u ? `: ${u.displayName}` : ''}
      </Title2>
      {u && (
        <Text as="p" block className={s.reason}>
          {u.userPrincipalName}
        </Text>
      )}
      <Stepper current={stageIndex} />
      {user.isPending && <Spinner label="Loading the user" />}
      {user.isError && !u && <ErrorBar error={user.error} />}
      {u && stage === 'choose' && (
        <>
          <StepHeading id="stepHeading-choose">1. Choose the steps</StepHeading>
          <Text as="p" block className={s.p}>
            The playbook takes the account back from an attacker: it ends what the attacker holds, removes what the attacker added and gives the user a way back in. Every step is audited; a run stopped part way can be resumed.
          </Text>
          {error !== undefined && <ErrorBar error={error} />}
          <ChooseSteps userId={userId} choice={choice} onChange={setChoice} onNext={(i) => void review(i)} onCancel={() => navigate(userPath)} busy={busy} blocked={self ? 'You cannot run the playbook on your own account.' : undefined} />
          {busy && <Spinner label="Preparing the plan…" />}
        </>
      )}
      {stage === 'preview' && preview && (
        <>
          <StepHeading id="stepHeading-preview">2. Review the plan</StepHeading>
          <Text as="p" block className={s.p}>
            This is what applying the chosen steps now would do. Nothing has changed yet.
          </Text>
          <PlanPreview preview={preview} busy={busy} onApply={() => void apply()} onBack={() => setStage('choose')} />
        </>
      )}
      {stage === 'apply' && runId && input && (
        <>
          <StepHeading id="stepHeading-apply">3. Apply</StepHeading>
          <Text as="p" block className={s.p} id="runId">
            Run <span className={s.mono}>{runId}</span>{' '}
            <Link href={`/admin/playbook/runs/${runId}`} onClick={go(`/admin/playbook/runs/${runId}`)} id="runPageLink">
              (the run&apos;s page)
            </Link>
          </Text>
          {error !== undefined && (
            <div id="applyError">
              <ErrorBar error={error instanceof ApiError ? error : new Error(`The connection to the server was lost while the steps were being applied (${error instanceof Error ? error.message : String(error)}). The run may have stopped part way: its page shows where, and resumes it.`)} />
            </div>
          )}
          <RunProgress steps={input.steps} run={run} applying={applying} tap={tap} />
          {run?.status === 'completed' && (
            <>
              <MessageBar intent="success" className={s.section} id="runCompleted">
                <MessageBarBody>
                  <MessageBarTitle>The playbook ran</MessageBarTitle>
                  {tap ? 'Copy the Temporary Access Pass now: it is not shown again, not even in the report.' : 'Every chosen step was applied.'}
                </MessageBarBody>
              </MessageBar>
              <div className={s.buttons}>
                <Button
                  appearance="primary"
                  id="toReport"
                  onClick={() => {
                    setTap(undefined);
                    setStage('report');
                  }}
                >
                  Continue to the report
                </Button>
              </div>
            </>
          )}
        </>
      )}
      {stage === 'report' && runId && (
        <>
          <StepHeading id="stepHeading-report">4. Report</StepHeading>
          <ReportView runId={runId} />
          <div className={s.buttons}>
            <Link href={userPath} onClick={go(userPath)} id="reportBackToUser">
              Back to the user
            </Link>
          </div>
        </>
      )}
    </section>
  );
}
