// Graph's signIn and directoryAudit objects, as far as the log pages show them.

export interface AuthenticationDetail {
  authenticationStepDateTime: string;
  authenticationMethod: string;
  authenticationMethodDetail: string | null;
  succeeded: boolean;
  authenticationStepResultDetail: string;
  authenticationStepRequirement: string;
}

export interface SignIn {
  id: string;
  createdDateTime: string;
  userDisplayName: string | null;
  userPrincipalName: string | null;
  userId: string | null;
  appId: string | null;
  appDisplayName: string | null;
  ipAddress: string | null;
  clientAppUsed: string | null;
  correlationId: string | null;
  isInteractive: boolean;
  resourceDisplayName: string | null;
  resourceId: string | null;
  status: { errorCode: number; failureReason: string | null; additionalDetails: string | null };
  authenticationDetails: AuthenticationDetail[];
  conditionalAccessStatus: string;
  appliedConditionalAccessPolicies: { id: string; displayName: string; result: string }[];
  riskDetail: string;
  riskLevelAggregated: string;
  riskLevelDuringSignIn: string;
  riskState: string;
  location: { city?: string; state?: string; countryOrRegion?: string } | null;
}

export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface TargetResource {
  id: string | null;
  displayName: string | null;
  type: string;
  userPrincipalName: string | null;
  groupType: string | null;
  modifiedProperties: ModifiedProperty[];
}

export interface DirectoryAudit {
  id: string;
  category: string;
  correlationId: string;
  result: string;
  resultReason: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: string;
  initiatedBy: {
    user: { id: string | null; displayName: string | null; userPrincipalName: string | null; ipAddress: string | null } | null;
    app: { appId: string; displayName: string | null; servicePrincipalId: string; servicePrincipalName: string | null } | null;
  };
  targetResources: TargetResource[];
  additionalDetails: { key: string; value: string }[];
}
