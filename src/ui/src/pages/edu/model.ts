// Education desktop groups and their desktops as the web listings send
// them, and the calls every view of them shares.
import { ApiError, get, post, Task } from '../../api';
import { DesktopBase, DesktopGroupBase, PHASE_COLOR, STATUS_COLOR } from '../desktopGroups';

export interface EduGroup extends DesktopGroupBase {
  classify: number;
  default: boolean;
  group: string | null;
  group_name: string | null;
  active: boolean;
  os_type: string;
}

export interface Desktop extends DesktopBase {
  group_name: string;
  terminal_id: number;
  terminal_mac: string;
  terminal_ip: string;
  created_at: string;
}

export const GROUPS = '/api/v1.0/voi/education/desktop/';
export const DESKTOPS = '/api/v1.0/voi/education/instance/';
/** The listing filter that keeps education groups (personal ones are 2). */
export const EDUCATION = { classify: 1 };

export async function getGroup(uuid: string, signal?: AbortSignal): Promise<EduGroup> {
  const p = await get<{ results: EduGroup[] }>(`${GROUPS}?searchtype=all&page=1&page_size=1&uuid=${encodeURIComponent(uuid)}`, signal);
  if (!p.results[0]) throw new ApiError(`Desktop group ${uuid} does not exist`, 20801, 404);
  return p.results[0];
}

/** A group-wide verb: `POST /api/v1/desktop/education/<verb>`. */
export const groupPath = (verb: string) => `/api/v1/desktop/education/${verb}`;
/** A verb on desktops of a group: `POST /api/v1/instance/<verb>`. */
export const instancePath = (verb: string) => `/api/v1/instance/${verb}`;

export type GroupPower = 'start' | 'stop' | 'reboot';
export type DesktopVerb = 'start' | 'stop' | 'hard_stop' | 'reboot' | 'hard_reboot' | 'delete';

/** The body of a desktop verb for one group's desktops. */
export const desktopsBody = (g: { uuid: string }, desktops: { uuid: string; name: string }[]) => ({
  desktop_uuid: g.uuid,
  desktop_type: 1,
  instances: desktops.map((d) => ({ uuid: d.uuid, name: d.name })),
});

/** How a batch task ended: `{success_num, failed_num, failed: ["name: reason"]}`. */
export interface Outcome {
  success_num: number;
  failed_num: number;
  failed: string[];
}
export function outcomeOf(t: Task): Outcome | null {
  const r = t.result as Partial<Outcome> | null;
  if (!r || typeof r.success_num !== 'number') return null;
  return { success_num: r.success_num, failed_num: r.failed_num || 0, failed: r.failed || [] };
}

export const makeActive = (g: EduGroup, on: boolean) => post(groupPath(on ? 'active' : 'inactive'), { uuid: g.uuid, name: g.name });
export const makeDefault = (g: EduGroup) => post(groupPath('default'), { uuid: g.uuid, name: g.name });

export { PHASE_COLOR, STATUS_COLOR };

/** A desktop's name as the group makes it: prefix and the number padded to `digits`. */
export const desktopName = (prefix: string, digits: number, n: number) => `${prefix}${String(n).padStart(Math.min(digits, 10), '0')}`;
