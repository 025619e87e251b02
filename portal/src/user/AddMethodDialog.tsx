// Add authentication method (Entra's panel): the methods the server lets an admin add (a Temporary Access
// Pass: its lifetime and one-time use, within the authentication methods policy's TAP settings). The
// input is checked here, each message at its field, then by the server's dry run (its refusal shown at
// the field it names); only a plan the server accepted goes on to the preview panel.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Checkbox, Field, Input, Select, makeStyles } from '@fluentui/react-components';
import { ApiError, type PlanDoc, call, dryRun } from '../api';
import { useClosing } from '../kit/closing';
import { FormDialog } from '../kit/FormDialog';

const useStyles = makeStyles({
  surface: { maxWidth: 'min(520px, calc(100vw - 24px))' },
});

/** The TAP settings of the authentication methods policy (Graph); D23's defaults when the caller may not read it. */
interface TapConfig {
  defaultLifetimeInMinutes: number;
  minimumLifetimeInMinutes: number;
  maximumLifetimeInMinutes: number;
  isUsableOnce: boolean;
}
const TAP_BOUNDS = { min: 10, max: 43_200 };

function useTapConfig() {
  return useQuery({
    queryKey: ['tapConfig'],
    queryFn: () => call<TapConfig>('/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass'),
  });
}

export function AddMethodDialog(props: { userId: string; userName: string; onPlanned: (plan: PlanDoc, input: Record<string, unknown>, opener: HTMLElement | null) => void; onClose: () => void }) {
  const s = useStyles();
  const config = useTapConfig();
  const c = config.data;
  const min = Math.max(c?.minimumLifetimeInMinutes ?? TAP_BOUNDS.min, TAP_BOUNDS.min);
  const max = Math.min(c?.maximumLifetimeInMinutes ?? TAP_BOUNDS.max, TAP_BOUNDS.max);
  const [lifetime, setLifetime] = useState<string | undefined>();
  const [once, setOnce] = useState<boolean | undefined>();
  const [errors, setErrors] = useState<{ lifetime?: string; once?: string }>({});
  const [refusal, setRefusal] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // Escape and Cancel close it as Fluent closes a dialog, the focus given back to the button that opened it
  const closing = useClosing<void>(props.onClose);
  // the policy's defaults until the admin changes a field
  const lifetimeValue = lifetime ?? String(c?.defaultLifetimeInMinutes ?? 60);
  const onceValue = once ?? c?.isUsableOnce ?? false;

  function check(): { lifetime?: string; once?: string } {
    const out: { lifetime?: string; once?: string } = {};
    const text = lifetimeValue.trim();
    if (!/^\d+$/.test(text)) out.lifetime = 'Enter the lifetime as a whole number of minutes.';
    else if (Number(text) < min || Number(text) > max) out.lifetime = `Enter a lifetime from ${min} to ${max} minutes (the authentication methods policy's Temporary Access Pass settings).`;
    if (c?.isUsableOnce && !onceValue) out.once = 'The authentication methods policy makes every Temporary Access Pass one-time.';
    return out;
  }

  // the policy's bounds decide what the form accepts: nothing is sent before they are read
  const loading = config.isPending;

  async function submit() {
    if (loading) return;
    setRefusal(undefined);
    const found = check();
    setErrors(found);
    if (found.lifetime || found.once) {
      document.getElementById(found.lifetime ? 'tapLifetime' : 'tapOnce')?.focus();
      return;
    }
    const input = { lifetimeInMinutes: Number(lifetimeValue.trim()), isUsableOnce: onceValue };
    setBusy(true);
    try {
      props.onPlanned(await dryRun(props.userId, 'createTap', input), input, closing.opener);
    } catch (e) {
      // a refusal naming a field is shown at that field; anything else above the form
      if (e instanceof ApiError && e.status === 400 && /lifetimeInMinutes/.test(e.message)) setErrors({ lifetime: e.message });
      else if (e instanceof ApiError && e.status === 400 && /isUsableOnce/.test(e.message)) setErrors({ once: e.message });
      else setRefusal(e);
      setBusy(false);
    }
  }

  return (
    <FormDialog
      open={closing.open}
      surfaceMotion={closing.surfaceMotion}
      modalType="modal"
      onDismiss={() => closing.close()}
      onSubmit={() => void submit()}
      surfaceClassName={s.surface}
      title={`Add authentication method: ${props.userName}`}
      error={refusal}
      submit={{ id: 'addMethodNext', label: 'Next: preview', disabled: busy || loading }}
      cancel={{ id: 'addMethodCancel' }}
    >
      <Field label="Choose method">
        <Select id="addMethodType" defaultValue="temporaryAccessPass">
          <option value="temporaryAccessPass">Temporary Access Pass</option>
        </Select>
      </Field>
      <Field label="Lifetime (minutes)" required hint={loading ? "Reading the authentication methods policy's limits…" : `From ${min} to ${max} minutes.`} validationState={errors.lifetime ? 'error' : 'none'} validationMessage={errors.lifetime} id="tapLifetimeField">
        <Input id="tapLifetime" inputMode="numeric" value={lifetimeValue} onChange={(_, d) => setLifetime(d.value)} />
      </Field>
      <Field validationState={errors.once ? 'error' : 'none'} validationMessage={errors.once} id="tapOnceField">
        <Checkbox id="tapOnce" label="One-time use" checked={onceValue} onChange={(_, d) => setOnce(d.checked === true)} />
      </Field>
    </FormDialog>
  );
}
