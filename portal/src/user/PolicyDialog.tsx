// View authentication methods policy: the user's effective policy, per method enabled or not and why
// (GET /latchkey/v1/users/{id}/methodsPolicy). A read: nothing to preview or apply.
import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  makeStyles,
} from '@fluentui/react-components';
import type { UseQueryResult } from '@tanstack/react-query';
import { ErrorBar } from '../ErrorBar';
import { useClosing } from '../kit/closing';

export interface EffectiveMethod {
  method: string;
  displayName: string;
  enabled: boolean;
  reason: string;
  reasonText: string;
}

export interface MethodsPolicyDoc {
  value: EffectiveMethod[];
}

const useStyles = makeStyles({
  surface: { maxWidth: 'min(640px, calc(100vw - 24px))' },
  why: { overflowWrap: 'anywhere' },
});

export function PolicyDialog(props: { userName: string; policy: UseQueryResult<MethodsPolicyDoc>; onClose: () => void }) {
  const s = useStyles();
  const p = props.policy;
  // closed as Fluent closes a dialog, the focus given back to the button that opened it
  const closing = useClosing<void>(props.onClose);
  return (
    <Dialog open={closing.open} surfaceMotion={closing.surfaceMotion} modalType="modal" onOpenChange={(_, d) => !d.open && closing.close()}>
      <DialogSurface className={s.surface} aria-describedby={undefined}>
        <DialogBody>
          <DialogTitle>Authentication methods policy for {props.userName}</DialogTitle>
          <DialogContent>
            {p.isPending && <Spinner label="Reading the policy" />}
            {p.isError && <ErrorBar error={p.error} />}
            {p.data && (
              <Table id="methodsPolicyTable" aria-label="Effective authentication methods policy" size="small">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Method</TableHeaderCell>
                    <TableHeaderCell>Enabled</TableHeaderCell>
                    <TableHeaderCell>Why</TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {p.data.value.map((m) => (
                    <TableRow key={m.method} data-method={m.method} data-enabled={String(m.enabled)}>
                      <TableCell>{m.displayName}</TableCell>
                      <TableCell>{m.enabled ? <Badge appearance="tint" color="success">Yes</Badge> : <Badge appearance="tint" color="subtle">No</Badge>}</TableCell>
                      <TableCell className={s.why}>{m.reasonText}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" id="policyClose" onClick={() => closing.close()}>
              Close
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
