// The link above a page back to the list (or the user) it was opened from: a real link (a new tab, the
// address shown), followed inside the portal without loading it again.
import type { ReactNode } from 'react';
import { Link, makeStyles, tokens } from '@fluentui/react-components';
import { navigate } from '../router';

const useStyles = makeStyles({ back: { display: 'inline-block', marginBottom: tokens.spacingVerticalS } });

export function BackLink({ to, id, children }: { to: string; id?: string; children: ReactNode }) {
  const s = useStyles();
  return (
    <Link
      className={s.back}
      href={to}
      id={id}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      ← {children}
    </Link>
  );
}
