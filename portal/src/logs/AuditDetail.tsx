// One audit record in full: the activity, who initiated it (a user or an app), and each target with its
// modified properties, old and new values side by side.
import { Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { when } from '../kit/fields';
import { Properties } from '../kit/Properties';
import { LogDrawer, useDetailStyles } from './LogDrawer';
import type { DirectoryAudit } from './types';

/** Who did it, as the list shows it: the user's UPN (or name), or the app's name. */
export function initiator(r: DirectoryAudit): string {
  return r.initiatedBy.user ? (r.initiatedBy.user.userPrincipalName ?? r.initiatedBy.user.displayName ?? '—') : (r.initiatedBy.app?.displayName ?? r.initiatedBy.app?.appId ?? '—');
}

export function AuditDetail({ open, audit: r, onClose }: { open: boolean; audit: DirectoryAudit; onClose: () => void }) {
  const s = useDetailStyles();
  const u = r.initiatedBy.user;
  const app = r.initiatedBy.app;
  return (
    <LogDrawer open={open} title="Audit log details" id="auditDetail" onClose={onClose}>
      <h2 className={s.h}>Activity</h2>
      <Properties
        id="auditActivity"
        rows={[
          ['Date', when(r.activityDateTime)],
          ['Activity ID', r.id],
          ['Correlation ID', r.correlationId],
          ['Category', r.category],
          ['Activity', r.activityDisplayName, 'detailActivity'],
          ['Activity type', r.operationType],
          ['Service', r.loggedByService],
          ['Status', r.result],
          ['Status reason', r.resultReason],
        ]}
      />
      <h2 className={s.h}>Initiated by</h2>
      <Properties
        id="auditInitiatedBy"
        rows={
          u
            ? [
                ['Type', 'User'],
                ['Display name', u.displayName],
                ['User principal name', u.userPrincipalName, 'detailInitiatorUpn'],
                ['Object ID', u.id],
                ['IP address', u.ipAddress],
              ]
            : [
                ['Type', 'Application'],
                ['Display name', app?.displayName, 'detailInitiatorUpn'],
                ['App ID', app?.appId],
                ['Service principal ID', app?.servicePrincipalId],
              ]
        }
      />
      <h2 className={s.h}>Target(s)</h2>
      {r.targetResources.length === 0 && <Text>None.</Text>}
      <div id="auditTargets">
        {r.targetResources.map((t, i) => (
          <div key={`${t.id ?? ''}-${i}`} data-target-id={t.id ?? ''}>
            <Properties
              rows={[
                ['Type', t.type],
                ['Display name', t.displayName],
                ['User principal name', t.userPrincipalName],
                ['Object ID', t.id],
              ]}
            />
            {t.modifiedProperties.length > 0 && (
              <Table aria-label={`Modified properties of ${t.displayName ?? t.id ?? 'the target'}`} size="small" className="modifiedProperties">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Property</TableHeaderCell>
                    <TableHeaderCell>Old value</TableHeaderCell>
                    <TableHeaderCell>New value</TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {t.modifiedProperties.map((m) => (
                    <TableRow key={m.displayName} data-property={m.displayName}>
                      <TableCell className={s.wrap}>{m.displayName}</TableCell>
                      <TableCell className={s.mono}>{m.oldValue ?? '—'}</TableCell>
                      <TableCell className={s.mono}>{m.newValue ?? '—'}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </div>
        ))}
      </div>
      {r.additionalDetails.length > 0 && (
        <>
          <h2 className={s.h}>Additional details</h2>
          <Properties rows={r.additionalDetails.map((d) => [d.key, d.value])} />
        </>
      )}
    </LogDrawer>
  );
}
