// A classroom as the group listing sends it (`GET /api/v1.0/voi/education/group/`,
// education groups are `group_type=1`).
export interface Classroom extends Record<string, unknown> {
  uuid: string;
  name: string;
  desc: string;
  group_type: number;
  network_uuid: string | null;
  subnet_uuid: string | null;
  start_ip: string | null;
  end_ip: string | null;
  enabled: boolean;
  template_count: number;
  terminal_count: number;
  seat_count: number;
  desktop_count: number;
  user_count: number;
  created_at: string;
}

export const GROUPS = '/api/v1.0/voi/education/group/';
/** The listing filter that keeps classrooms (education groups). */
export const EDUCATION = { group_type: 1 };
