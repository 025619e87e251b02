// The run's report (spec §5): what was done, what was not, and what is still alive and until when, from
// the server's report (which never holds the Temporary Access Pass). "Print" prints the report alone (the
// print stylesheet hides everything else); "Save" downloads the server's text report.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, Spinner, Text } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { getReport, saveReport, when } from './api';
import { CredentialTable } from './parts';
import { usePlaybookStyles, usePrintStyles } from './styles';

export function ReportView({ runId }: { runId: string }) {
  usePrintStyles();
  const s = usePlaybookStyles();
  const report = useQuery({ queryKey: ['playbookReport', runId], queryFn: () => getReport(runId), gcTime: 0 });
  const [saveError, setSaveError] = useState<unknown>();
  const r = report.data;
  return (
    <div id="playbookReport">
      {report.isPending && <Spinner label="Loading the report" />}
      {report.isError && <ErrorBar error={report.error} />}
      {r && (
        <>
          <Text as="p" block className={s.p}>
            Compromised-account playbook for{' '}
            <strong>{r.target ? `${r.target.displayName} (${r.target.userPrincipalName})` : `${r.run.target.id} (deleted)`}</strong>
          </Text>
          <Text as="p" block className={s.p} id="reportRun">
            Run <span className={s.mono}>{r.run.runId}</span>: {r.run.status === 'completed' ? 'completed' : r.run.status === 'failed' ? 'stopped by a refusal' : 'unfinished'}, started {when(r.run.createdDateTime)}
            {r.run.completedDateTime ? `, completed ${when(r.run.completedDateTime)}` : ''}.
          </Text>
          <h3 className={s.sub}>What was done</h3>
          {r.done.length === 0 ? (
            <Text as="p" block className={s.p}>
              Nothing yet.
            </Text>
          ) : (
            <ol className={s.list} id="reportDone">
              {r.done.map((d) => (
                <li key={d.step} className={s.item} value={d.number} data-step={d.step}>
                  {d.title}: {d.status}
                  {d.note ? ` (${d.note})` : ''}, {when(d.appliedDateTime)}
                  {d.endedCount ? `; ${d.endedCount} session(s) or refresh token(s) ended` : ''}
                </li>
              ))}
            </ol>
          )}
          {r.notDone.length > 0 && (
            <>
              <h3 className={s.sub}>Not done yet</h3>
              <ul className={s.list} id="reportNotDone">
                {r.notDone.map((d) => (
                  <li key={d.step} className={s.item}>
                    {d.title}
                  </li>
                ))}
              </ul>
            </>
          )}
          {r.run.error && (
            <Text as="p" block className={s.p}>
              Stopped: {r.run.error}
            </Text>
          )}
          <h3 className={s.sub}>Still alive</h3>
          <div id="reportStillAlive">
            {r.stillAlive.accessTokens.length === 0 ? (
              <Text as="p" block className={s.p}>
                No access token issued before the run is still valid.
              </Text>
            ) : (
              <ul className={s.list}>
                {r.stillAlive.accessTokens.map((a) => (
                  <li key={a.app} className={s.item}>
                    Access tokens of {a.app} already issued: usable at APIs that do not check with Latchkey until {when(a.until)}.
                  </li>
                ))}
              </ul>
            )}
            <CredentialTable id="reportSessions" lines={r.stillAlive.sessionsAndGrants} empty="No browser session or refresh token of the user is alive." caption="Sessions and refresh tokens the user holds now." />
          </div>
          {saveError !== undefined && <ErrorBar error={saveError} />}
          <div className={s.buttons}>
            <Button appearance="primary" id="printReport" onClick={() => window.print()}>
              Print
            </Button>
            <Button
              id="saveReport"
              onClick={() => {
                setSaveError(undefined);
                saveReport(runId).catch(setSaveError);
              }}
            >
              Save
            </Button>
          </div>
        </>
      )}
    </div>
  );
}
