// Picking groups by the start of their name (Graph $filter startsWith), as Entra's "Select groups": the
// chosen groups listed with a Remove button each; results offered with an Add button each.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, Field, Input, Spinner, Text, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { ErrorBar } from '../ErrorBar';
import { type Group, searchGroups } from './api';

const useStyles = makeStyles({
  list: { listStyle: 'none', margin: `${tokens.spacingVerticalXS} 0`, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  row: { display: 'flex', alignItems: 'center', justifyContent: 'space-between', gap: tokens.spacingHorizontalS, overflowWrap: 'anywhere' },
  results: { border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, padding: tokens.spacingHorizontalS },
});

export function GroupPicker(props: { idPrefix: string; label: string; chosen: Group[]; onChange: (groups: Group[]) => void; disabled: boolean; error?: string }) {
  const s = useStyles();
  const [search, setSearch] = useState('');
  const prefix = search.trim();
  const found = useQuery({ queryKey: ['groupSearch', prefix], queryFn: () => searchGroups(prefix), enabled: prefix.length > 0 && !props.disabled });
  const chosenIds = new Set(props.chosen.map((g) => g.id));
  const p = props.idPrefix;
  return (
    <div id={`${p}Groups`}>
      <Field
        label={props.label}
        hint="Type the start of a group's name."
        {...(props.error ? { validationState: 'error' as const, validationMessage: { id: `${p}GroupsError`, children: props.error } } : {})}
      >
        <Input id={`${p}GroupSearch`} value={search} disabled={props.disabled} onChange={(_, d) => setSearch(d.value)} placeholder="Group name starts with…" />
      </Field>
      {prefix && found.isPending && <Spinner size="tiny" label="Searching groups" />}
      {found.isError && <ErrorBar error={found.error} />}
      {prefix && found.data && (
        <ul className={mergeClasses(s.list, s.results)} aria-label="Groups found" id={`${p}Results`}>
          {found.data.value.length === 0 && (
            <li>
              <Text>No group name starts with “{prefix}”.</Text>
            </li>
          )}
          {found.data.value.map((g) => (
            <li key={g.id} className={s.row}>
              <Text>{g.displayName}</Text>
              <Button size="small" id={`${p}-add-${g.id}`} disabled={props.disabled || chosenIds.has(g.id)} aria-label={`Add ${g.displayName}`} onClick={() => props.onChange([...props.chosen, g])}>
                {chosenIds.has(g.id) ? 'Added' : 'Add'}
              </Button>
            </li>
          ))}
        </ul>
      )}
      <ul className={s.list} aria-label={`${props.label}: chosen`} id={`${p}Chosen`}>
        {props.chosen.map((g) => (
          <li key={g.id} className={s.row} data-group-id={g.id}>
            <Text>{g.displayName}</Text>
            <Button size="small" appearance="subtle" id={`${p}-remove-${g.id}`} disabled={props.disabled} aria-label={`Remove ${g.displayName}`} onClick={() => props.onChange(props.chosen.filter((x) => x.id !== g.id))}>
              Remove
            </Button>
          </li>
        ))}
      </ul>
    </div>
  );
}
