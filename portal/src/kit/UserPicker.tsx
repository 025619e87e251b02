// Picking a user to add (to a group or a role): search by the start of the name or user principal name,
// then Add on a row. The add is the caller's; its refusal is shown here with the server's message.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableRow,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { type GraphUser, type UserPage, call, usersUrl } from '../api';
import { ErrorBar } from '../ErrorBar';
import { useClosing } from './closing';

const useStyles = makeStyles({
  surface: { maxWidth: 'min(640px, calc(100vw - 24px))' },
  search: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'flex-end', flexWrap: 'wrap', marginBottom: tokens.spacingVerticalM },
  grow: { flexGrow: 1, minWidth: '180px' },
  upn: { overflowWrap: 'anywhere' },
  add: { width: '80px' },
});

export function UserPicker({ title, onAdd, onClose }: { title: string; onAdd: (u: GraphUser) => Promise<unknown>; onClose: (added: boolean) => void }) {
  const s = useStyles();
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const url = search !== undefined ? usersUrl(search, 10) : undefined;
  const found = useQuery({ queryKey: ['pick', url], queryFn: () => call<UserPage>(url!), enabled: url !== undefined });
  const closing = useClosing(onClose);
  return (
    <Dialog open={closing.open} surfaceMotion={closing.surfaceMotion} onOpenChange={(_, d) => !d.open && !busy && closing.close(false)}>
      <DialogSurface className={s.surface} id="pickerDialog">
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent>
            <form
              className={s.search}
              role="search"
              onSubmit={(e) => {
                e.preventDefault();
                setSearch(draft);
              }}
            >
              <Field label="Name or user principal name starts with" className={s.grow}>
                <Input id="pickerSearch" value={draft} onChange={(_, d) => setDraft(d.value)} autoFocus />
              </Field>
              <Button type="submit" id="pickerSearchButton">
                Search
              </Button>
            </form>
            {found.isFetching && <Spinner size="small" label="Searching" />}
            {found.isError && <ErrorBar error={found.error} />}
            {found.data && (
              <Table aria-label="Users found" id="pickerResults" size="small">
                <TableBody>
                  {found.data.value.map((u) => (
                    <TableRow key={u.id} data-upn={u.userPrincipalName}>
                      <TableCell>{u.displayName}</TableCell>
                      <TableCell className={s.upn}>{u.userPrincipalName}</TableCell>
                      <TableCell className={s.add}>
                        <Button
                          size="small"
                          aria-label={`Add ${u.displayName}`}
                          disabled={busy !== undefined}
                          onClick={() => {
                            setBusy(u.id);
                            setError(undefined);
                            onAdd(u).then(
                              () => closing.close(true),
                              (e: unknown) => {
                                setBusy(undefined);
                                setError(e);
                              },
                            );
                          }}
                        >
                          {busy === u.id ? <Spinner size="tiny" /> : 'Add'}
                        </Button>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
            {found.data?.value.length === 0 && <Text>No user matches.</Text>}
            {error !== undefined && <ErrorBar error={error} />}
          </DialogContent>
          <DialogActions>
            <Button id="pickerClose" onClick={() => closing.close(false)} disabled={busy !== undefined}>
              Close
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
