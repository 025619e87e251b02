// What the tenant pages share: the read-only notice (the server's reason), the saved notice, the refusal
// bar, a field's error message with a stable id, and a whole-number check that matches the server's.
import { MessageBar, MessageBarBody, MessageBarTitle, makeStyles, tokens } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';

export const useTenantStyles = makeStyles({
  intro: { maxWidth: '760px', margin: `${tokens.spacingVerticalS} 0 ${tokens.spacingVerticalM}`, color: tokens.colorNeutralForeground2 },
  section: { marginTop: tokens.spacingVerticalL },
  h2: { fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, margin: `0 0 ${tokens.spacingVerticalS}` },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '480px' },
  bar: { marginBottom: tokens.spacingVerticalM },
  buttons: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
});

/** The server's reason why the caller may only look. */
export function ReadOnlyBar({ id, reason }: { id: string; reason?: string }) {
  const s = useTenantStyles();
  return (
    <MessageBar intent="warning" id={id} className={s.bar}>
      <MessageBarBody>
        <MessageBarTitle>Read only</MessageBarTitle>
        {reason ?? 'You may not change this.'}
      </MessageBarBody>
    </MessageBar>
  );
}

export function SavedBar({ id, text }: { id: string; text: string }) {
  const s = useTenantStyles();
  return (
    <MessageBar intent="success" id={id} className={s.bar} role="status">
      <MessageBarBody>
        <MessageBarTitle>Saved</MessageBarTitle>
        {text}
      </MessageBarBody>
    </MessageBar>
  );
}

/** A refusal not tied to one field, as the server worded it. */
export function RefusalBar({ error }: { error: unknown }) {
  const s = useTenantStyles();
  return error === undefined ? null : (
    <div className={s.bar} id="refusal">
      <ErrorBar error={error} />
    </div>
  );
}

/** Props of a Fluent Field showing `message` (if any) with the id `{field}Error`. */
export function fieldError(field: string, message: string | undefined): { validationState?: 'error'; validationMessage?: { id: string; children: string } } {
  return message ? { validationState: 'error', validationMessage: { id: `${field}Error`, children: message } } : {};
}

/** A whole number from `min` to `max` typed in a field, or the message saying what is wrong. */
export function wholeNumber(text: string, min: number, max: number, what: string): number | string {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return `${what} must be a whole number from ${min} to ${max}.`;
  const n = Number(t);
  if (n < min || n > max) return `${what} must be from ${min} to ${max}.`;
  return n;
}
