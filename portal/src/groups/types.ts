// Graph's group object, as far as the group pages show it.
export interface GraphGroup {
  id: string;
  displayName: string;
  description: string | null;
  mailNickname: string;
  securityEnabled: boolean;
  mailEnabled: boolean;
  isAssignableToRole: boolean;
  groupTypes: string[];
  createdDateTime: string | null;
}

export const GROUP_SELECT = 'id,displayName,description,mailNickname,securityEnabled,mailEnabled,isAssignableToRole,groupTypes,createdDateTime';
