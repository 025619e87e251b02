// App registrations: the tenant's applications (search by the start of the name, a page at a time) and
// "New registration" (name, supported account types: this tenant only, a redirect URI with its platform).
import { useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Button,
  Field,
  Input,
  Link,
  Radio,
  RadioGroup,
  Select,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { call, sameOriginPath } from '../api';
import { ErrorBar } from '../ErrorBar';
import { navigate } from '../router';
import { type Application, type Paged, PLATFORM_LABEL, type Platform, appsUrl, redirectUriProblem, when } from './graph';
import { type DialogProps, SETTLE_MS, exitMotion, fieldMessage, useDialog, usePartStyles } from './parts';
import { FormDialog } from '../kit/FormDialog';
import { Reason, byRight, useDirectoryRight } from '../kit/rights';
import { createSp } from './consent';

export const APPS_PAGE_SIZE = 10;

const useStyles = makeStyles({
  search: { display: 'flex', gap: tokens.spacingHorizontalS, margin: `${tokens.spacingVerticalM} 0`, flexWrap: 'wrap' },
  searchInput: { flexGrow: 1, minWidth: '200px', maxWidth: '480px' },
  pager: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, marginTop: tokens.spacingVerticalM },
});

function NewRegistration({ open, onClose, onExited, onCreated }: DialogProps & { onCreated: (objectId: string) => void }) {
  const s = usePartStyles();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [platform, setPlatform] = useState<Platform>('web');
  const [uri, setUri] = useState('');
  const [problems, setProblems] = useState<{ name?: string; uri?: string }>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function register() {
    const p = {
      name: !name.trim() ? 'Enter a name for the application.' : name.length > 256 ? 'The name is at most 256 characters.' : undefined,
      uri: uri.trim() ? redirectUriProblem(uri, platform) : undefined,
    };
    setProblems(p);
    if (p.name || p.uri) return;
    setBusy(true);
    setError(undefined);
    try {
      const body: Record<string, unknown> = { displayName: name.trim(), signInAudience: 'AzureADMyOrg' };
      if (uri.trim()) body[platform] = { redirectUris: [uri.trim()] };
      const app = await call<Application>('/v1.0/applications', { method: 'POST', body });
      // as Entra's portal: a new registration has its service principal in the tenant, so it can sign in
      await createSp(app.appId);
      await qc.invalidateQueries({ queryKey: ['apps'] });
      onCreated(app.id);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <FormDialog
      open={open}
      onDismiss={onClose}
      surfaceMotion={exitMotion(onExited)}
      onSubmit={() => void register()}
      id="newAppDialog"
      title="Register an application"
      error={error}
      submit={{ id: 'registerButton', label: 'Register', disabledFocusable: busy }}
      cancel={{ id: 'cancelRegisterButton' }}
    >
      <Field label="Name" required hint="The user-facing display name for this application (this can be changed later)." {...fieldMessage('newAppNameError', problems.name)}>
        <Input id="newAppName" value={name} onChange={(_, d) => setName(d.value)} />
      </Field>
      <Field label="Supported account types">
        <RadioGroup value="AzureADMyOrg" id="newAppAudience">
          <Radio value="AzureADMyOrg" label="Accounts in this organizational directory only (single tenant)" />
        </RadioGroup>
      </Field>
      <div className={s.row}>
        <Field label="Redirect URI platform (optional)">
          <Select id="newAppPlatform" value={platform} onChange={(_, d) => setPlatform(d.value as Platform)}>
            {(Object.keys(PLATFORM_LABEL) as Platform[]).map((k) => (
              <option key={k} value={k}>
                {k === 'publicClient' ? 'Public client/native (mobile & desktop)' : PLATFORM_LABEL[k]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Redirect URI (optional)" className={s.grow} {...fieldMessage('newAppRedirectUriError', problems.uri)}>
          <Input id="newAppRedirectUri" placeholder="e.g. https://example.com/auth" value={uri} onChange={(_, d) => setUri(d.value)} />
        </Field>
      </div>
    </FormDialog>
  );
}

export default function AppsPage() {
  const s = useStyles();
  const ps = usePartStyles();
  const [draft, setDraft] = useState('');
  const creating = useDialog();
  const created = useRef<string>(undefined);
  const [pages, setPages] = useState<string[]>([appsUrl('', APPS_PAGE_SIZE)]);
  const current = pages[pages.length - 1]!;
  const q = useQuery({ queryKey: ['apps', current], queryFn: () => call<Paged<Application>>(current) });
  const next = q.data?.['@odata.nextLink'];
  const mayCreate = useDirectoryRight('createApplication');

  return (
    <section aria-labelledby="appsTitle">
      <Title2 as="h1" id="appsTitle">
        App registrations
      </Title2>
      <div className={ps.toolbar}>
        <Button appearance="primary" id="newRegistration" {...byRight(mayCreate, 'newRegistrationReason')} onClick={() => creating.show()}>
          New registration
        </Button>
        <Reason id="newRegistrationReason" right={mayCreate} />
      </div>
      <form
        className={s.search}
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPages([appsUrl(draft, APPS_PAGE_SIZE)]);
        }}
      >
        <Input className={s.searchInput} id="appSearch" aria-label="Search by display name" placeholder="Display name starts with…" value={draft} onChange={(_, d) => setDraft(d.value)} />
        <Button type="submit" id="appSearchButton">
          Search
        </Button>
      </form>
      {q.isPending && <Spinner label="Loading applications" />}
      {q.isError && <ErrorBar error={q.error} />}
      {q.data && (
        <>
          <Table aria-label="Applications" id="appsTable" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Display name</TableHeaderCell>
                <TableHeaderCell>Application (client) ID</TableHeaderCell>
                <TableHeaderCell className={ps.wideOnly}>Created on</TableHeaderCell>
                <TableHeaderCell className={ps.wideOnly}>Certificates &amp; secrets</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {q.data.value.map((a) => (
                <TableRow key={a.id} data-app-id={a.appId}>
                  <TableCell className={ps.cell}>
                    <Link
                      href={`/admin/apps/${encodeURIComponent(a.id)}`}
                      onClick={(e) => {
                        e.preventDefault();
                        navigate(`/admin/apps/${encodeURIComponent(a.id)}`);
                      }}
                    >
                      {a.displayName}
                    </Link>
                  </TableCell>
                  <TableCell className={ps.mono}>{a.appId}</TableCell>
                  <TableCell className={ps.wideOnly}>{when(a.createdDateTime)}</TableCell>
                  <TableCell className={ps.wideOnly}>{a.passwordCredentials.length ? `${a.passwordCredentials.length} secret(s)` : '—'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {q.data.value.length === 0 && <Text id="noApps">No application matches.</Text>}
          <div className={s.pager}>
            <Button id="appsPrevPage" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>
              Previous
            </Button>
            <Text id="appsPageNumber">Page {pages.length}</Text>
            <Button id="appsNextPage" disabled={!next} onClick={() => next && setPages([...pages, sameOriginPath(next)])}>
              Next
            </Button>
          </div>
        </>
      )}
      {creating.mounted && (
        <NewRegistration
          key={creating.key}
          {...creating.props}
          onCreated={(id) => {
            created.current = id;
            creating.hide();
          }}
          onExited={() => {
            creating.props.onExited();
            // to the new app once the panel has closed (the page is given back to assistive technology first)
            const id = created.current;
            if (id) setTimeout(() => navigate(`/admin/apps/${encodeURIComponent(id)}`), SETTLE_MS);
          }}
        />
      )}

    </section>
  );
}
