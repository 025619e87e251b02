// What the two log pages' filter forms share: the date range fields (the browser's local time, sent as
// UTC instants), with the range checked at its field before anything is asked of the server.
import { Field, Input, makeStyles, tokens } from '@fluentui/react-components';
import { instant } from '../kit/fields';

export const useFilterStyles = makeStyles({
  form: {
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(200px, 1fr))',
    gap: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    alignItems: 'start',
    margin: `${tokens.spacingVerticalM} 0`,
  },
  buttons: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'flex-end', paddingTop: tokens.spacingVerticalXL, '@media (max-width: 600px)': { paddingTop: 0 } },
  table: { marginTop: tokens.spacingVerticalS },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
  wrap: { overflowWrap: 'anywhere' },
});

export interface Range {
  from: string;
  to: string;
}

/** The range's own refusal: an end before the start. */
export function rangeError(r: Range): string | undefined {
  const from = instant(r.from);
  const to = instant(r.to);
  return from && to && from > to ? 'The end of the range must not be before its start.' : undefined;
}

/** The range as $filter clauses on `property`. */
export function rangeClauses(property: string, r: Range): string[] {
  const from = instant(r.from);
  const to = instant(r.to);
  return [...(from ? [`${property} ge ${from}`] : []), ...(to ? [`${property} le ${to}`] : [])];
}

export function RangeFields({ value, onChange, errors, idPrefix }: { value: Range; onChange: (r: Range) => void; errors: Record<string, string>; idPrefix: string }) {
  return (
    <>
      <Field label="From" validationMessage={errors.from} validationState={errors.from ? 'error' : 'none'}>
        <Input id={`${idPrefix}From`} type="datetime-local" value={value.from} onChange={(_, d) => onChange({ ...value, from: d.value })} />
      </Field>
      <Field label="To" validationMessage={errors.to} validationState={errors.to ? 'error' : 'none'}>
        <Input id={`${idPrefix}To`} type="datetime-local" value={value.to} onChange={(_, d) => onChange({ ...value, to: d.value })} />
      </Field>
    </>
  );
}
