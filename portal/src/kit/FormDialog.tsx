// The portal's dialog forms share one frame: a Fluent dialog whose surface holds a form (no browser
// validation: each form checks its fields and puts each message at its field), a title, the form's
// refusal above its fields, the fields, then the submit button (Enter submits) and Cancel. Escape and
// Cancel ask to close (`onDismiss`); how the dialog closes and unmounts stays its owner's.
import type { ReactNode } from 'react';
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, makeStyles, tokens } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';

const useStyles = makeStyles({
  surface: { maxWidth: 'min(600px, calc(100vw - 24px))' },
  fields: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

type SurfaceMotion = { onMotionFinish: (e: unknown, d: { direction: 'enter' | 'exit' }) => unknown };

export interface FormDialogProps {
  open: boolean;
  /** Escape, and Cancel: the owner closes the dialog (or not, while a write runs). */
  onDismiss: () => void;
  onSubmit: () => void;
  title: ReactNode;
  /** The surface's id (tests and the page find the dialog by it). */
  id?: string;
  formId?: string;
  modalType?: 'modal' | 'alert';
  surfaceMotion?: SurfaceMotion;
  /** The surface's own width, when not the kit's 600 px. */
  surfaceClassName?: string;
  /** A refusal no field owns, shown above the fields. */
  error?: unknown;
  children: ReactNode;
  /** The submit button; none when the form has nothing more to send (its result shown instead). */
  submit?: { id: string; label: ReactNode; disabled?: boolean; disabledFocusable?: boolean };
  cancel: { id: string; label?: ReactNode; disabled?: boolean };
}

export function FormDialog(p: FormDialogProps) {
  const s = useStyles();
  return (
    <Dialog open={p.open} modalType={p.modalType} onOpenChange={(_, d) => !d.open && p.onDismiss()} surfaceMotion={p.surfaceMotion}>
      <DialogSurface className={p.surfaceClassName ?? s.surface} id={p.id} aria-describedby={undefined}>
        <form
          noValidate
          id={p.formId}
          onSubmit={(e) => {
            e.preventDefault();
            p.onSubmit();
          }}
        >
          <DialogBody>
            <DialogTitle>{p.title}</DialogTitle>
            <DialogContent className={s.fields}>
              {p.error !== undefined && <ErrorBar error={p.error} />}
              {p.children}
            </DialogContent>
            <DialogActions>
              {p.submit && (
                <Button type="submit" appearance="primary" id={p.submit.id} disabled={p.submit.disabled} disabledFocusable={p.submit.disabledFocusable}>
                  {p.submit.label}
                </Button>
              )}
              <Button id={p.cancel.id} disabled={p.cancel.disabled} onClick={p.onDismiss}>
                {p.cancel.label ?? 'Cancel'}
              </Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
