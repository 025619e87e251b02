// A run's progress, step by step: each chosen step waiting, being applied, done or skipped, with its
// result (what changed, how many sessions and tokens ended). The Temporary Access Pass is shown in the
// result of its step only when this page's own call applied that step: it is never shown again (a pass whose
// answer was lost is replaced by issuing a new one, which the step's result links to).
import { Badge, Field, Input, Link, Spinner, Text } from '@fluentui/react-components';
import { navigate } from '../router';
import { type Run, STEP_INFO, type StepName } from './api';
import { changeText } from './PlanPreview';
import { usePlaybookStyles } from './styles';

export function RunProgress({ steps, run, applying, tap }: { steps: StepName[]; run: Run | undefined; applying: boolean; tap: string | undefined }) {
  const s = usePlaybookStyles();
  const results = new Map((run?.results ?? []).map((r) => [r.step, r]));
  const next = steps.find((st) => !results.has(st));
  const methodsPath = run ? `/admin/users/${encodeURIComponent(run.target.id)}/authentication-methods` : '/admin/';
  return (
    <ol className={s.steps} id="runProgress" aria-live="polite">
      {steps.map((step, i) => {
        const r = results.get(step);
        const state = r ? r.status : applying && step === next ? 'running' : 'waiting';
        return (
          <li key={step} className={s.stepCard} data-step={step} data-state={state}>
            <div className={s.stepHead}>
              <Text weight="semibold">
                {r?.number ?? i + 1}. {r?.title ?? STEP_INFO[step].title}
              </Text>
              {state === 'done' && (
                <Badge appearance="tint" color="success">
                  Done
                </Badge>
              )}
              {state === 'skipped' && (
                <Badge appearance="tint" color="informative">
                  Skipped
                </Badge>
              )}
              {state === 'running' && <Spinner size="extra-tiny" label="Applying" />}
              {state === 'waiting' && (
                <Badge appearance="outline" color="informative">
                  Not applied yet
                </Badge>
              )}
            </div>
            {r && (
              <>
                <div className={s.detail}>
                  {r.status === 'done' ? 'Applied' : 'Skipped'} {new Date(r.appliedDateTime).toLocaleString()}
                  {r.note ? `: ${r.note}` : ''}
                  {r.ended.length ? `; ended ${r.ended.length} session(s) or refresh token(s)` : ''}
                </div>
                {r.changes.map((c) => (
                  <div className={s.detail} key={c.property}>
                    {changeText(c)}
                  </div>
                ))}
                {step === 'createTap' &&
                  (tap ? (
                    <Field className={s.section} label="Temporary Access Pass: shown this once, hand it to the user out of band" hint="It is kept nowhere: not in the run, not in the report.">
                      <Input id="tapValue" readOnly value={tap} className={s.secret} />
                    </Field>
                  ) : (
                    <div className={s.detail} id="tapShownEarlier">
                      The Temporary Access Pass was shown once, to the admin whose call applied this step. If that answer never arrived (the server stopped before it), issue a new pass from the user&apos;s{' '}
                      <Link
                        href={methodsPath}
                        id="tapReissueLink"
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(methodsPath);
                        }}
                      >
                        authentication methods
                      </Link>
                      : it replaces this one.
                    </div>
                  ))}
              </>
            )}
          </li>
        );
      })}
    </ol>
  );
}
