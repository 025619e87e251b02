// Edit a group's properties (Graph PATCH /groups/{id}), as Entra's group Properties blade: its name and
// description, the two the server lets change. Only what changed is sent (an emptied description is
// removed); a blank name is refused at its field before the call, what the server refuses about a property
// at that property's field, anything else above the buttons. The dialog closes once the page has re-read
// the group, so the page shows what was saved.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Field, Input, Spinner, Textarea, makeStyles } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { useClosing } from '../kit/closing';
import { fieldState, refusalAt } from '../kit/fields';
import { FormDialog } from '../kit/FormDialog';
import type { GraphGroup } from './types';

const useStyles = makeStyles({
  surface: { maxWidth: 'min(560px, calc(100vw - 24px))' },
});

const FIELD_PROPERTIES = { displayName: ['displayName'], description: ['description'] };

interface Draft {
  displayName: string;
  description: string;
}

/** The PATCH body: the properties the draft changes (names and descriptions trimmed; an emptied description is null). */
function changesOf(g: GraphGroup, v: Draft): { displayName?: string; description?: string | null } {
  const name = v.displayName.trim();
  const description = v.description.trim() || null;
  return { ...(name !== g.displayName ? { displayName: name } : {}), ...(description !== (g.description || null) ? { description } : {}) };
}

export function EditGroupDialog({ group: g, onClose }: { group: GraphGroup; onClose: (saved: boolean) => void }) {
  const s = useStyles();
  const queryClient = useQueryClient();
  const [v, setV] = useState<Draft>({ displayName: g.displayName, description: g.description ?? '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const closing = useClosing(onClose);
  const body = changesOf(g, v);
  const changed = Object.keys(body).length > 0;

  const save = async () => {
    if (!changed || busy) return;
    setFormError(undefined);
    if (!v.displayName.trim()) {
      setErrors({ displayName: 'Enter a group name.' });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await call(`/v1.0/groups/${encodeURIComponent(g.id)}`, { method: 'PATCH', body });
      await Promise.all([queryClient.invalidateQueries({ queryKey: ['group', g.id] }), queryClient.invalidateQueries({ queryKey: ['groups'] })]);
      closing.close(true);
    } catch (e) {
      const at = refusalAt(e, FIELD_PROPERTIES);
      setErrors(at.fields);
      setFormError(at.form);
      setBusy(false);
    }
  };

  return (
    <FormDialog
      open={closing.open}
      surfaceMotion={closing.surfaceMotion}
      onDismiss={() => !busy && closing.close(false)}
      onSubmit={() => void save()}
      id="editGroupDialog"
      formId="editGroupForm"
      surfaceClassName={s.surface}
      title="Edit group properties"
      submit={{ id: 'saveGroup', label: busy ? <Spinner size="tiny" label="Save" /> : 'Save', disabledFocusable: busy || !changed }}
      cancel={{ id: 'cancelEditGroup', disabled: busy }}
    >
      <Field label="Group name" required {...fieldState(errors.displayName)}>
        <Input id="editGroupName" value={v.displayName} onChange={(_, d) => setV({ ...v, displayName: d.value })} autoFocus />
      </Field>
      <Field label="Description" {...fieldState(errors.description)}>
        <Textarea id="editGroupDescription" resize="vertical" value={v.description} onChange={(_, d) => setV({ ...v, description: d.value })} />
      </Field>
      {formError !== undefined && <ErrorBar error={formError} />}
    </FormDialog>
  );
}
