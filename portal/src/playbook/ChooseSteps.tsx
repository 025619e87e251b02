// Step 1 of the wizard: which of the playbook's steps to run (all by default, as spec §5 lists them), which
// passkeys to delete besides what re-register deletes, and the Temporary Access Pass's lifetime. Bad input
// is refused at its field before anything is asked of the server.
import { useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, Checkbox, Field, Input, Text } from '@fluentui/react-components';
import { type PlaybookInput, STEPS, STEP_INFO, type StepName, userPasskeys, when } from './api';
import { usePlaybookStyles } from './styles';

export interface ChoiceState {
  steps: Set<StepName>;
  passkeys: Set<string>;
  lifetime: string;
  usableOnce: boolean;
}

export function defaultChoice(): ChoiceState {
  return { steps: new Set(STEPS), passkeys: new Set(), lifetime: '', usableOnce: false };
}

/** The input of the playbook's dry run and apply, or the fields' messages. */
export function inputOf(c: ChoiceState): { input?: PlaybookInput; errors: { steps?: string; lifetime?: string } } {
  const errors: { steps?: string; lifetime?: string } = {};
  if (!c.steps.size) errors.steps = 'Choose at least one step.';
  const createTap = c.steps.has('createTap');
  const life = c.lifetime.trim();
  if (createTap && life !== '' && !(/^\d{1,5}$/.test(life) && Number(life) >= 10 && Number(life) <= 43_200)) errors.lifetime = 'Enter a whole number of minutes from 10 to 43200 (30 days).';
  if (errors.steps || errors.lifetime) return { errors };
  const steps = STEPS.filter((st) => c.steps.has(st));
  const passkeys = c.steps.has('requireReregisterMfa') ? [...c.passkeys] : [];
  return {
    errors,
    input: { steps, ...(passkeys.length ? { deleteMethodIds: passkeys } : {}), ...(createTap && life !== '' ? { tapLifetimeInMinutes: Number(life) } : {}), ...(createTap ? { tapIsUsableOnce: c.usableOnce } : {}) },
  };
}

export function ChooseSteps(props: { userId: string; choice: ChoiceState; onChange: (c: ChoiceState) => void; onNext: (input: PlaybookInput) => void; onCancel: () => void; busy: boolean; blocked?: string }) {
  const s = usePlaybookStyles();
  const c = props.choice;
  const [errors, setErrors] = useState<{ steps?: string; lifetime?: string }>({});
  const lifetimeRef = useRef<HTMLInputElement>(null);
  const firstStepRef = useRef<HTMLInputElement>(null);
  const passkeys = useQuery({ queryKey: ['passkeys', props.userId], queryFn: () => userPasskeys(props.userId) });

  const toggle = (step: StepName, on: boolean) => {
    const steps = new Set(c.steps);
    if (on) steps.add(step);
    else steps.delete(step);
    props.onChange({ ...c, steps });
  };

  function next() {
    const r = inputOf(c);
    setErrors(r.errors);
    if (r.errors.steps) firstStepRef.current?.focus();
    else if (r.errors.lifetime) lifetimeRef.current?.focus();
    if (r.input) props.onNext(r.input);
  }

  return (
    <form
      id="chooseSteps"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        next();
      }}
    >
      <fieldset className={s.fieldset} aria-describedby={errors.steps ? 'stepsError' : undefined}>
        <legend className={s.legend}>Steps to run, in this order</legend>
        {STEPS.map((step, i) => (
          <div className={s.stepRow} key={step}>
            <Checkbox
              id={`step-${step}`}
              ref={i === 0 ? firstStepRef : undefined}
              checked={c.steps.has(step)}
              onChange={(_, d) => toggle(step, d.checked === true)}
              label={`${i + 1}. ${STEP_INFO[step].title}`}
              aria-describedby={`step-${step}-effect`}
            />
            <Text className={s.effect} id={`step-${step}-effect`}>
              {STEP_INFO[step].effect}
            </Text>
            {step === 'requireReregisterMfa' && c.steps.has(step) && passkeys.data && passkeys.data.length > 0 && (
              <div className={s.nested} role="group" aria-label="Passkeys to delete as well">
                {passkeys.data.map((p) => (
                  <Checkbox
                    key={p.id}
                    id={`passkey-${p.id}`}
                    checked={c.passkeys.has(p.id)}
                    onChange={(_, d) => {
                      const set = new Set(c.passkeys);
                      if (d.checked === true) set.add(p.id);
                      else set.delete(p.id);
                      props.onChange({ ...c, passkeys: set });
                    }}
                    label={`Also delete the passkey ${p.displayName ?? p.id} (added ${when(p.createdDateTime)})`}
                  />
                ))}
              </div>
            )}
            {step === 'createTap' && c.steps.has(step) && (
              <div className={s.nested}>
                <Field label="Lifetime in minutes (10 to 43200)" hint="Leave empty for the Temporary Access Pass policy's default." validationMessage={errors.lifetime} validationState={errors.lifetime ? 'error' : 'none'}>
                  <Input id="tapLifetime" ref={lifetimeRef} inputMode="numeric" value={c.lifetime} onChange={(_, d) => props.onChange({ ...c, lifetime: d.value })} />
                </Field>
                <Checkbox id="tapUsableOnce" checked={c.usableOnce} onChange={(_, d) => props.onChange({ ...c, usableOnce: d.checked === true })} label="Usable once only" />
              </div>
            )}
          </div>
        ))}
        {errors.steps && (
          <Text className={s.error} id="stepsError" role="alert">
            {errors.steps}
          </Text>
        )}
      </fieldset>
      <div className={s.buttons}>
        <Button appearance="primary" type="submit" id="previewButton" disabled={props.busy || props.blocked !== undefined} aria-describedby={props.blocked ? 'playbookBlocked' : undefined}>
          Review the plan
        </Button>
        <Button type="button" id="cancelPlaybook" onClick={props.onCancel}>
          Cancel
        </Button>
        {props.blocked && (
          <Text className={s.reason} id="playbookBlocked">
            {props.blocked}
          </Text>
        )}
      </div>
    </form>
  );
}
