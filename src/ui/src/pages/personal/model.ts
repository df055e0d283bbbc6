// Personal desktop groups as the API lists them (`GET /api/v1.0/desktop_group/`
// with `kind=personal`), their desktops (`GET /api/v1.0/instance/`), and the
// calls every view shares.
import { ApiError, get, listAll, post } from '../../api';
import { DesktopBase, DesktopGroupBase, PHASE_COLOR, STATUS_COLOR } from '../desktopGroups';

export interface PersonalGroup extends DesktopGroupBase {
  /** 1 random, 2 static. */
  desktop_type: 1 | 2 | null;
  /** User group uuids. */
  groups: string[];
  maintenance: boolean;
}

export interface Desktop extends DesktopBase {
  user_uuid: string | null;
}

export interface TemplateRow {
  uuid: string;
  name: string;
  vcpu: number;
  ram: number;
  pool_uuid: string;
  status: string;
  version: number;
}

export interface NodeRow {
  uuid: string;
  name: string;
  ip: string;
  pool_uuid: string | null;
  is_compute: boolean;
  status: string;
}

export interface UserRow extends Record<string, unknown> {
  uuid: string;
  user_name: string;
  name: string;
  group_uuid: string;
  group_name: string | null;
  enabled: boolean;
}

export interface UserGroup {
  uuid: string;
  name: string;
  user_count: number;
}

export const GROUPS = 'desktop_group';
export const PERSONAL_FILTER = { kind: 'personal' };
export const INSTANCES = 'instance';
export const USERS = 'group_user';
export const TEMPLATES = '/api/v1.0/voi/education/template/';
export const USER_GROUPS = '/api/v1.0/voi/education/group/';
/** `group_type` of user groups (1 is classrooms). */
export const USER_GROUP_TYPE = 2;
export const PERSONAL = '/api/v1/desktop/personal/';
export const INSTANCE = '/api/v1/instance/';

export type GroupVerb = 'start' | 'stop' | 'reboot';
export type DesktopVerb = 'start' | 'stop' | 'reboot' | 'delete';

export async function getGroup(uuid: string, signal?: AbortSignal): Promise<PersonalGroup> {
  const p = await get<{ results: PersonalGroup[] }>(`/api/v1.0/desktop_group/?searchtype=all&page=1&page_size=1&kind=personal&uuid=${encodeURIComponent(uuid)}`, signal);
  if (!p.results[0]) throw new ApiError(`Desktop group ${uuid} does not exist`, 404, 404);
  return p.results[0];
}

export const loadUserGroups = () => listAll<UserGroup>(USER_GROUPS, { group_type: USER_GROUP_TYPE });

/** The body of a desktop verb (`/api/v1/instance/<verb>`). */
export const instanceBody = (d: Desktop) => ({ desktop_uuid: d.desktop_group, desktop_type: 2, instances: [d.uuid] });

export const assign = (d: Desktop, user: string) => post(`${INSTANCE}assign`, { instance_uuid: d.uuid, user_uuid: user });
export const unassign = (d: Desktop) => post(`${INSTANCE}unassign`, { instance_uuid: d.uuid });

const users = new Map<string, Promise<UserRow | null>>();

/** One user by uuid (for the assigned user's name; kept a while); null when gone. */
export function getUser(uuid: string): Promise<UserRow | null> {
  let p = users.get(uuid);
  if (!p) {
    p = get<{ results: UserRow[] }>(`/api/v1.0/group_user/?searchtype=all&page=1&page_size=1&uuid=${encodeURIComponent(uuid)}`).then((r) => r.results[0] || null);
    p.catch(() => users.delete(uuid));
    users.set(uuid, p);
  }
  return p;
}

export const forgetUser = (uuid: string) => users.delete(uuid);

export { STATUS_COLOR };
export const STATE_COLOR = PHASE_COLOR;

/** A default desktop name prefix from the group's name (letters, digits, `-`, `_`). */
export function prefixFrom(name: string): string {
  const p = name
    .trim()
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24)
    .replace(/-+$/, '');
  return `${p || 'pd'}-`;
}
