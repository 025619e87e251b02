// What the app registrations pages share: a confirm dialog for destructive writes, a section heading, a
// field's message as a slot with a stable id, and a hook that runs one write at a time and keeps its refusal.
import { useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Text, makeStyles, tokens } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';

/** The id of the page's notice saying why the application may not be changed (AppPage shows it). */
export const UPDATE_REASON = 'updateAppReason';

export const usePartStyles = makeStyles({
  surface: { maxWidth: 'min(600px, calc(100vw - 24px))' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  row: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'flex-end', flexWrap: 'wrap' },
  grow: { flexGrow: 1, minWidth: '200px' },
  h2: { fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, margin: `${tokens.spacingVerticalL} 0 ${tokens.spacingVerticalS}` },
  muted: { color: tokens.colorNeutralForeground2 },
  cell: { overflowWrap: 'anywhere' },
  mono: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
  toolbar: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', margin: `${tokens.spacingVerticalS} 0` },
  actionCell: { width: '7rem', '@media (max-width: 600px)': { width: '5.5rem' } },
  statusCell: { width: '7rem', '@media (max-width: 600px)': { width: '6.5rem' } },
  wideOnly: { '@media (max-width: 600px)': { display: 'none' } },
  narrowOnly: { display: 'none', '@media (max-width: 600px)': { display: 'block', color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200 } },
  nowrap: { whiteSpace: 'nowrap' },
});

/** A field's validation message with a stable id (tests and assistive technology read it by id). */
export function fieldMessage(id: string, message: string | undefined) {
  return message ? { validationMessage: { id, children: message }, validationState: 'error' as const } : {};
}

/** What a dialog of these pages takes: whether it is open, how it asks to close, and when it has closed. */
export interface DialogProps {
  open: boolean;
  onClose: () => void;
  onExited: () => void;
}

/**
 * Fluent's modal dialog hides the rest of the page from assistive technology (aria-hidden, through tabster's
 * modalizer, updated 250 ms after a change). The page is given back only when the dialog closes and that
 * update has run; a dialog unmounted while open, or before the update, leaves the page hidden. So a dialog
 * is closed by its `open` prop, and what follows its closing (unmounting it, leaving the page) waits this long.
 */
export const SETTLE_MS = 400;

/**
 * A dialog's life: mounted when shown, closed by its `open` prop, unmounted once closed and settled (a closed
 * Dialog left mounted keeps tabster's focus-trap elements in the page). `show()` opens a fresh one (a new key
 * resets its state), with an optional value.
 */
export function useDialog<T = true>() {
  const [state, setState] = useState<{ open: boolean; mounted: boolean; key: number; value?: T }>({ open: false, mounted: false, key: 0 });
  // what had the focus when the dialog was opened: Fluent gives it back only to a DialogTrigger, and these
  // dialogs have none, so Escape or Cancel would leave the keyboard user on the page's body
  const opener = useRef<HTMLElement | null>(null);
  const hide = () => setState((x) => ({ ...x, open: false }));
  const exited = () => {
    if (opener.current?.isConnected) opener.current.focus();
    setTimeout(() => setState((x) => (x.open ? x : { ...x, mounted: false })), SETTLE_MS);
  };
  return {
    mounted: state.mounted,
    key: state.key,
    value: state.value,
    show: (value?: T) => {
      opener.current = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
      setState((x) => ({ open: true, mounted: true, key: x.key + 1, value }));
    },
    hide,
    props: { open: state.open, onClose: hide, onExited: exited } satisfies DialogProps,
  };
}

/** The Dialog's surface motion slot calling `onExited` when the closing motion ends. */
export const exitMotion = (onExited: () => void) => ({ onMotionFinish: (_: unknown, d: { direction: 'enter' | 'exit' }) => d.direction === 'exit' && onExited() });

/** Runs writes one at a time: `busy` while one runs, `error` the server's refusal of the last one. */
export function useWrite(invalidate: readonly unknown[][] = []) {
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function run(write: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(undefined);
    try {
      await write();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      for (const key of invalidate) await qc.invalidateQueries({ queryKey: key });
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

/** Asks before a destructive write; `onConfirm` throws the server's refusal, shown in the dialog. */
export function ConfirmDialog(props: DialogProps & { id: string; title: string; text: string; confirm: string; onConfirm: () => Promise<unknown> }) {
  const s = usePartStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <Dialog open={props.open} modalType="alert" onOpenChange={(_, d) => !d.open && props.onClose()} surfaceMotion={exitMotion(props.onExited)}>
      <DialogSurface className={s.surface} id={props.id} aria-describedby={`${props.id}-text`}>
        <DialogBody>
          <DialogTitle>{props.title}</DialogTitle>
          <DialogContent>
            <Text as="p" block id={`${props.id}-text`}>
              {props.text}
            </Text>
            {error !== undefined && <ErrorBar error={error} />}
          </DialogContent>
          <DialogActions>
            <Button
              appearance="primary"
              id={`${props.id}-confirm`}
              disabledFocusable={busy}
              onClick={() => {
                setBusy(true);
                setError(undefined);
                props
                  .onConfirm()
                  .then(() => props.onClose())
                  .catch((e: unknown) => {
                    setError(e);
                    setBusy(false);
                  });
              }}
            >
              {props.confirm}
            </Button>
            <Button id={`${props.id}-cancel`} onClick={props.onClose}>
              Cancel
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
