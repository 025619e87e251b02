// One method configuration, as Entra's method pane: "Enable and target" (on or off, all users or chosen
// groups, groups excluded) and "Configure" (the method's own settings). Save PATCHes the configuration;
// bad values are refused at their field before anything is sent, and a refusal naming a property is shown
// at that property's field.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, Radio, RadioGroup, Spinner, Switch, makeStyles, tokens } from '@fluentui/react-components';
import { call } from '../api';
import { ErrorBar } from '../ErrorBar';
import { ALL_USERS, type Group, type MethodConfig, POLICY_PATH, type PolicyTarget, groupsByIds, showRefusal } from './api';
import { RefusalBar, ReadOnlyBar, fieldError, useTenantStyles } from './common';
import { GroupPicker } from './GroupPicker';
import { type Draft, type Errors, METHOD_NAMES, MethodSettingsFields, SERVER_FIELDS, checkSettings, draftOf, settingsBody } from './MethodSettings';

const useStyles = makeStyles({
  surface: { maxWidth: 'min(640px, calc(100vw - 24px))' },
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

type Props = { open: boolean; config: MethodConfig; allowed: boolean; reason?: string; onClose: () => void; onSaved: (name: string) => void };

function MethodForm({ config, allowed, reason, onClose, onSaved, names }: Props & { names: Map<string, string> }) {
  const s = useTenantStyles();
  const own = useStyles();
  const qc = useQueryClient();
  const name = METHOD_NAMES[config.id] ?? config.id;
  const groupOf = (t: PolicyTarget): Group => ({ id: t.id, displayName: names.get(t.id) ?? `Unknown group ${t.id}` });
  const allUsers = config.includeTargets.some((t) => t.id === ALL_USERS);
  const [enabled, setEnabled] = useState(config.state === 'enabled');
  const [mode, setMode] = useState(allUsers ? 'all' : 'groups');
  const [include, setInclude] = useState<Group[]>(config.includeTargets.filter((t) => t.id !== ALL_USERS).map(groupOf));
  const [exclude, setExclude] = useState<Group[]>(config.excludeTargets.map(groupOf));
  const [draft, setDraft] = useState<Draft>(() => draftOf(config));
  const [errors, setErrors] = useState<Errors>({});
  const [refusal, setRefusal] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  // targets kept keep their own settings (registration required, authentication mode...)
  const kept = new Map(config.includeTargets.map((t) => [t.id, t]));
  const includeTargets = (): PolicyTarget[] => (mode === 'all' ? [kept.get(ALL_USERS) ?? { targetType: 'group', id: ALL_USERS }] : include.map((g) => kept.get(g.id) ?? { targetType: 'group', id: g.id }));

  async function save() {
    setRefusal(undefined);
    const found: Errors = checkSettings(config.id, draft);
    if (mode === 'groups' && include.length === 0) found.include = 'Add at least one group, or target all users.';
    const twice = exclude.find((g) => mode === 'groups' && include.some((i) => i.id === g.id));
    if (twice) found.exclude = `${twice.displayName} is both included and excluded: exclusion wins, so remove it from one of the lists.`;
    setErrors(found);
    if (Object.values(found).some(Boolean)) return;
    setBusy(true);
    try {
      const body = { state: enabled ? 'enabled' : 'disabled', includeTargets: includeTargets(), excludeTargets: exclude.map((g) => ({ targetType: 'group', id: g.id })), ...settingsBody(config.id, draft) };
      await call(`${POLICY_PATH}/authenticationMethodConfigurations/${config.id}`, { method: 'PATCH', body });
      await qc.invalidateQueries({ queryKey: ['methodsPolicy'] });
      onSaved(name);
    } catch (e) {
      showRefusal(e, SERVER_FIELDS, setErrors, setRefusal);
    } finally {
      setBusy(false);
    }
  }

  return (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <DialogBody>
            <DialogTitle>{name} settings</DialogTitle>
            {/* focusable, so the pane scrolls by keyboard even when every control is read only */}
            <DialogContent className={own.stack} tabIndex={allowed ? undefined : 0} role="region" aria-label={`${name} settings`}>
              {!allowed && <ReadOnlyBar id="methodReadOnly" reason={reason} />}
              <RefusalBar error={refusal} />
              <h2 className={s.h2}>Enable and target</h2>
              <Field {...fieldError('enabled', errors.enabled)}>
                <Switch id="methodEnabled" label="Enable" checked={enabled} disabled={!allowed} onChange={(_, d) => setEnabled(d.checked)} />
              </Field>
              <Field label="Include" {...fieldError('include', mode === 'all' ? errors.include : undefined)}>
                <RadioGroup id="includeMode" value={mode} disabled={!allowed} onChange={(_, d) => setMode(d.value)}>
                  <Radio id="includeAll" value="all" label="All users" />
                  <Radio id="includeSelected" value="groups" label="Select groups" />
                </RadioGroup>
              </Field>
              {mode === 'groups' && <GroupPicker idPrefix="include" label="Included groups" chosen={include} onChange={(g) => {
                    setInclude(g);
                    setErrors({ ...errors, include: undefined });
                  }} disabled={!allowed} error={errors.include} />}
              <GroupPicker idPrefix="exclude" label="Excluded groups" chosen={exclude} onChange={(g) => {
                  setExclude(g);
                  setErrors({ ...errors, exclude: undefined });
                }} disabled={!allowed} error={errors.exclude} />
              <h2 className={s.h2}>Configure</h2>
              <MethodSettingsFields id={config.id} draft={draft} set={(f, v) => setDraft({ ...draft, [f]: v })} errors={errors} disabled={!allowed} />
            </DialogContent>
            <DialogActions>
              <Button id="saveMethod" type="submit" appearance="primary" disabled={!allowed} disabledFocusable={busy}>
                Save
              </Button>
              <Button id="cancelMethod" appearance="secondary" onClick={onClose}>
                {allowed ? 'Cancel' : 'Close'}
              </Button>
              {busy && <Spinner size="tiny" label="Saving…" />}
            </DialogActions>
          </DialogBody>
        </form>
  );
}

/**
 * The names of the configuration's groups load first (shown on the page), then the dialog opens with its
 * form. A non-modal dialog, as Entra's method pane beside its list: Fluent's modal one was seen leaving
 * the whole page aria-hidden after a save. It is closed by `open`, and the page unmounts it a moment later.
 */
export function MethodDialog(props: Props) {
  const own = useStyles();
  const ids = [...props.config.includeTargets, ...props.config.excludeTargets].map((t) => t.id).filter((id) => id !== ALL_USERS);
  const names = useQuery({ queryKey: ['groupNames', ids], queryFn: () => groupsByIds(ids) });
  if (names.isError) return <ErrorBar error={names.error} />;
  if (!names.data) return <Spinner label="Loading the groups" />;
  return (
    <Dialog
      open={props.open}
      modalType="non-modal"
      onOpenChange={(_, d) => !d.open && props.onClose()}
    >
      <DialogSurface className={own.surface} aria-label={`${METHOD_NAMES[props.config.id] ?? props.config.id} settings`} id="methodDialog">
        <MethodForm {...props} names={new Map(names.data.map((g) => [g.id, g.displayName]))} />
      </DialogSurface>
    </Dialog>
  );
}
