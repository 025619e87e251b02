// One sign-in in full, in Entra's sections: basic info with the status, its AADSTS code and reason,
// location, authentication details step by step, conditional access, and risk.
import { Badge, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { when } from '../kit/fields';
import { Properties } from '../kit/Properties';
import { LogDrawer, useDetailStyles } from './LogDrawer';
import type { SignIn } from './types';

export function StatusBadge({ s }: { s: SignIn['status'] }) {
  return s.errorCode === 0 ? (
    <Badge appearance="tint" color="success">
      Success
    </Badge>
  ) : (
    <Badge appearance="tint" color="danger">
      Failure
    </Badge>
  );
}

export function SignInDetail({ open, signIn: r, onClose }: { open: boolean; signIn: SignIn; onClose: () => void }) {
  const s = useDetailStyles();
  const failed = r.status.errorCode !== 0;
  return (
    <LogDrawer open={open} title="Activity details: sign-in" id="signInDetail" onClose={onClose}>
      <h2 className={s.h}>Basic info</h2>
      <Properties
        id="signInBasic"
        rows={[
          ['Date', when(r.createdDateTime)],
          ['Request ID', r.id],
          ['Correlation ID', r.correlationId],
          ['User', r.userDisplayName],
          ['Username', r.userPrincipalName],
          ['User ID', r.userId],
          ['Application', r.appDisplayName],
          ['Application ID', r.appId],
          ['Resource', r.resourceDisplayName],
          ['Resource ID', r.resourceId],
          ['Client app', r.clientAppUsed],
          ['Sign-in type', r.isInteractive ? 'Interactive' : 'Non-interactive'],
          ['Status', <StatusBadge key="status" s={r.status} />, 'detailStatus'],
          ['Sign-in error code', failed ? `AADSTS${r.status.errorCode}` : '0', 'detailErrorCode'],
          ['Failure reason', r.status.failureReason, 'detailFailureReason'],
          ['Additional details', r.status.additionalDetails],
        ]}
      />
      <h2 className={s.h}>Location</h2>
      <Properties
        rows={[
          ['IP address', r.ipAddress, 'detailIp'],
          ['Location', r.location ? [r.location.city, r.location.state, r.location.countryOrRegion].filter(Boolean).join(', ') : null],
        ]}
      />
      <h2 className={s.h}>Authentication details</h2>
      {r.authenticationDetails.length === 0 ? (
        <Text id="detailAuthentication">No authentication step was recorded.</Text>
      ) : (
        <Table aria-label="Authentication details" id="detailAuthentication" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Requirement</TableHeaderCell>
              <TableHeaderCell>Method</TableHeaderCell>
              <TableHeaderCell>Succeeded</TableHeaderCell>
              <TableHeaderCell>Result detail</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {r.authenticationDetails.map((d, i) => (
              <TableRow key={i}>
                <TableCell>{d.authenticationStepRequirement}</TableCell>
                <TableCell className={s.wrap}>
                  {d.authenticationMethod}
                  {d.authenticationMethodDetail ? ` (${d.authenticationMethodDetail})` : ''}
                </TableCell>
                <TableCell>{d.succeeded ? 'Yes' : 'No'}</TableCell>
                <TableCell className={s.wrap}>{d.authenticationStepResultDetail}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <h2 className={s.h}>Conditional Access</h2>
      <Properties
        rows={[
          ['Status', r.conditionalAccessStatus, 'detailConditionalAccess'],
          ['Applied policies', r.appliedConditionalAccessPolicies.length ? r.appliedConditionalAccessPolicies.map((p) => `${p.displayName}: ${p.result}`).join('; ') : 'None'],
        ]}
      />
      <h2 className={s.h}>Risk</h2>
      <Properties
        rows={[
          ['Risk level (aggregate)', r.riskLevelAggregated],
          ['Risk level (during sign-in)', r.riskLevelDuringSignIn],
          ['Risk state', r.riskState],
          ['Risk detail', r.riskDetail],
        ]}
      />
    </LogDrawer>
  );
}
