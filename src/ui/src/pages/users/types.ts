// Rows of the users page: user groups (group_type 2) and users, as the API lists them.
import { listAll } from '../../api';

export interface UserGroup {
  [k: string]: unknown;
  uuid: string;
  name: string;
  desc: string;
  group_type: number;
  user_count: number;
  desktop_count: number;
  enabled: boolean;
  created_at: string;
}

export interface User {
  [k: string]: unknown;
  uuid: string;
  group_uuid: string;
  group_name: string | null;
  user_name: string;
  name: string;
  phone: string;
  email: string;
  enabled: boolean;
  created_at: string;
}

export const GROUP_RESOURCE = '/api/v1.0/voi/education/group/';
export const USER_GROUP = 2;

export const loadUserGroups = () => listAll<UserGroup>(GROUP_RESOURCE, { group_type: USER_GROUP });
