// A confirm dialog for a change the server makes at once (remove a member, delete a group): the question,
// then the call; a refusal is shown in the dialog with the server's message and nothing is closed.
import { useState, type ReactNode } from 'react';
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Spinner, makeStyles } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { useClosing } from './closing';

const useStyles = makeStyles({ surface: { maxWidth: 'min(520px, calc(100vw - 24px))' } });

export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose }: { title: string; children: ReactNode; confirmLabel: string; onConfirm: () => Promise<unknown>; onClose: (done: boolean) => void }) {
  const s = useStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const closing = useClosing(onClose);
  return (
    <Dialog open={closing.open} surfaceMotion={closing.surfaceMotion} modalType="alert" onOpenChange={(_, d) => !d.open && !busy && closing.close(false)}>
      <DialogSurface className={s.surface} id="confirmDialog" aria-describedby="confirmText">
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent>
            <div id="confirmText">{children}</div>
            {error !== undefined && <ErrorBar error={error} />}
          </DialogContent>
          <DialogActions>
            <Button
              id="confirmButton"
              appearance="primary"
              disabled={busy}
              onClick={() => {
                setBusy(true);
                setError(undefined);
                onConfirm().then(
                  () => closing.close(true),
                  (e: unknown) => {
                    setBusy(false);
                    setError(e);
                  },
                );
              }}
            >
              {busy ? <Spinner size="tiny" label={confirmLabel} /> : confirmLabel}
            </Button>
            <Button id="cancelButton" disabled={busy} onClick={() => closing.close(false)}>
              Cancel
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
