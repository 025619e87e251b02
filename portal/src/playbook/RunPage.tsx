// A playbook run's page at /admin/playbook/runs/{runId}: its progress step by step; a run that stopped part
// way (the server stopped, or a step was refused) shows as unfinished with Resume, which applies the steps
// left; then the report. The Temporary Access Pass shows once, when this page's Resume applied its step.
import { useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text, Title2 } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { type Run, STEP_INFO, getRun, resumeRun } from './api';
import { StepHeading } from './parts';
import { ReportView } from './ReportView';
import { RunProgress } from './RunProgress';
import { usePlaybookStyles } from './styles';
import { useRunPolling } from './useRunPolling';
import { BackLink } from '../kit/BackLink';

export default function RunPage({ runId }: { runId: string }) {
  const s = usePlaybookStyles();
  const qc = useQueryClient();
  const loaded = useQuery({ queryKey: ['playbookRun', runId], queryFn: () => getRun(runId), gcTime: 0 });
  const [latest, setLatest] = useState<Run | undefined>();
  const [tap, setTap] = useState<string | undefined>();
  const [resuming, setResuming] = useState(false);
  const [error, setError] = useState<unknown>();
  const [showReport, setShowReport] = useState(false);
  const progressRef = useRef<HTMLHeadingElement>(null);
  useRunPolling(runId, resuming, (r) => setLatest((old) => (old && old.results.length > r.results.length ? old : r)));
  const run = latest ?? loaded.data;

  async function resume() {
    setResuming(true);
    setError(undefined);
    try {
      const r = await resumeRun(runId);
      setLatest(r);
      setTap(r.results.find((x) => x.step === 'createTap')?.temporaryAccessPass);
      await qc.invalidateQueries({ queryKey: ['user', r.target.id] });
      await qc.invalidateQueries({ queryKey: ['actions', r.target.id] });
    } catch (e) {
      setError(e);
    } finally {
      setResuming(false);
      progressRef.current?.focus();
    }
  }

  const userPath = run ? `/admin/users/${encodeURIComponent(run.target.id)}` : '/admin/';
  const unfinished = run !== undefined && run.status !== 'completed';
  return (
    <section aria-labelledby="runTitle">
      <BackLink to={userPath} id="runBackToUser">The user</BackLink>
      <Title2 as="h1" id="runTitle" block>
        Compromised-account playbook run
      </Title2>
      <Text as="p" block className={s.mono}>
        {runId}
      </Text>
      {loaded.isPending && <Spinner label="Loading the run" />}
      {loaded.isError && <ErrorBar error={loaded.error} />}
      {run && !showReport && (
        <>
          <StepHeading id="runStatusHeading">
            Status:{' '}
            {run.status === 'completed' ? (
              <Badge appearance="tint" color="success" id="runStatus" data-status={run.status}>
                Completed
              </Badge>
            ) : (
              <Badge appearance="tint" color="warning" id="runStatus" data-status={run.status}>
                Unfinished
              </Badge>
            )}
          </StepHeading>
          {unfinished && !resuming && (
            <MessageBar intent="warning" id="runUnfinished" layout="multiline">
              <MessageBarBody>
                <MessageBarTitle>This run stopped part way</MessageBarTitle>
                {run.error
                  ? `${run.error} `
                  : `Its last change was at ${new Date(run.lastModifiedDateTime).toLocaleString()}; the server stopped before the next step. `}
                {run.nextStep ? `Step ${run.steps.indexOf(run.nextStep) + 1} (${STEP_INFO[run.nextStep].title}) and the steps after it were not applied. Resume applies them; steps already applied are not applied again.` : ''}
              </MessageBarBody>
            </MessageBar>
          )}
          {error !== undefined && <ErrorBar error={error} />}
          {unfinished && (
            <div className={s.buttons}>
              <Button appearance="primary" id="resumeRun" disabled={resuming} onClick={() => void resume()}>
                Resume
              </Button>
              {resuming && <Spinner size="tiny" label="Applying the steps left…" />}
            </div>
          )}
          <h3 className={s.heading} tabIndex={-1} ref={progressRef} id="runProgressHeading">
            Steps
          </h3>
          <RunProgress steps={run.steps} run={run} applying={resuming} tap={tap} />
          {run.status === 'completed' && tap && (
            <MessageBar intent="success" className={s.section} id="runCompleted">
              <MessageBarBody>
                <MessageBarTitle>The playbook ran</MessageBarTitle>
                Copy the Temporary Access Pass now: it is not shown again, not even in the report.
              </MessageBarBody>
            </MessageBar>
          )}
          <div className={s.buttons}>
            <Button
              appearance={run.status === 'completed' ? 'primary' : 'secondary'}
              id="showReport"
              onClick={() => {
                setTap(undefined);
                setShowReport(true);
              }}
            >
              {run.status === 'completed' ? 'Continue to the report' : 'Report so far'}
            </Button>
          </div>
        </>
      )}
      {run && showReport && (
        <>
          <StepHeading id="stepHeading-report">Report</StepHeading>
          <ReportView runId={runId} />
          <div className={s.buttons}>
            <Button id="backToRun" onClick={() => setShowReport(false)}>
              Back to the steps
            </Button>
          </div>
        </>
      )}
    </section>
  );
}
