// A list of properties (term, value), two columns on a wide screen and one on a phone.
import type { ReactNode } from 'react';
import { makeStyles, tokens } from '@fluentui/react-components';

const useStyles = makeStyles({
  props: {
    display: 'grid',
    gridTemplateColumns: 'minmax(140px, max-content) 1fr',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalS,
    margin: `${tokens.spacingVerticalM} 0`,
    '@media (max-width: 600px)': { gridTemplateColumns: '1fr', rowGap: 0 },
  },
  term: { fontWeight: tokens.fontWeightSemibold, '@media (max-width: 600px)': { marginTop: tokens.spacingVerticalS } },
  value: { margin: 0, overflowWrap: 'anywhere' },
  row: { display: 'contents' },
});

export function Properties({ id, rows }: { id?: string; rows: [string, ReactNode, string?][] }) {
  const s = useStyles();
  return (
    <dl className={s.props} id={id}>
      {rows.map(([term, value, valueId]) => (
        <div key={term} className={s.row}>
          <dt className={s.term}>{term}</dt>
          <dd className={s.value} id={valueId}>
            {value === null || value === undefined || value === '' ? '—' : value}
          </dd>
        </div>
      ))}
    </dl>
  );
}
