// Small parts of the playbook's pages: the heading that takes the focus when its step opens, the wizard's
// step indicator, and a paged table of sessions and refresh tokens (device, app, IP, last use).
import { useEffect, useRef, useState } from 'react';
import { Button, Text, mergeClasses } from '@fluentui/react-components';
import { type CredentialLine, when } from './api';
import { usePlaybookStyles } from './styles';

/** A step's heading: focused when it appears, so keyboard and screen-reader users start there. */
export function StepHeading({ id, children }: { id: string; children: React.ReactNode }) {
  const s = usePlaybookStyles();
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h2 id={id} ref={ref} tabIndex={-1} className={s.heading}>
      {children}
    </h2>
  );
}

export const WIZARD_STAGES = ['Choose the steps', 'Review the plan', 'Apply', 'Report'] as const;

export function Stepper({ current }: { current: number }) {
  const s = usePlaybookStyles();
  return (
    <ol className={s.stepper} aria-label="Playbook progress" id="wizardStages">
      {WIZARD_STAGES.map((label, i) => (
        <li key={label} className={mergeClasses(s.stepperItem, i === current && s.stepperCurrent)} aria-current={i === current ? 'step' : undefined}>
          {i + 1}. {label}
        </li>
      ))}
    </ol>
  );
}

export const PAGE = 10;

/** Sessions and refresh tokens, ten a page. */
export function CredentialTable({ id, lines, empty, caption }: { id: string; lines: CredentialLine[]; empty: string; caption: string }) {
  const s = usePlaybookStyles();
  const [page, setPage] = useState(0);
  if (!lines.length)
    return (
      <Text as="p" block className={s.p} id={id}>
        {empty}
      </Text>
    );
  const pages = Math.ceil(lines.length / PAGE);
  const shown = lines.slice(page * PAGE, page * PAGE + PAGE);
  return (
    <div id={id}>
      <table className={s.table}>
        <caption className={s.reason}>
          {caption}
        </caption>
        <thead>
          <tr>
            <th className={s.th} scope="col">
              What
            </th>
            <th className={s.th} scope="col">
              App
            </th>
            <th className={s.th} scope="col">
              Device and IP
            </th>
            <th className={s.th} scope="col">
              Last use
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((l) => (
            <tr key={`${l.kind}-${l.id}`} data-kind={l.kind}>
              <td className={s.td}>{l.kind === 'session' ? 'Browser session' : 'Refresh token'}</td>
              <td className={s.td}>{l.app}</td>
              <td className={s.td}>
                {l.device.length > 60 ? `${l.device.slice(0, 59)}…` : l.device}
                {l.ip ? ` · ${l.ip}` : ''}
              </td>
              <td className={s.td}>{when(l.lastUsedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <div className={s.pager}>
          <Button size="small" id={`${id}-prev`} disabled={page === 0} onClick={() => setPage(page - 1)}>
            Previous
          </Button>
          <Text id={`${id}-page`}>
            Page {page + 1} of {pages}
          </Text>
          <Button size="small" id={`${id}-next`} disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            Next
          </Button>
        </div>
      )}
    </div>
  );
}
