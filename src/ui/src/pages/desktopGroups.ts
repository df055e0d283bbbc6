// What education and personal desktop groups share as the listings send
// them: the group's fields, a desktop's, and the colours of their states.
// edu/model.ts and personal/model.ts extend these with their own fields.

/** The fields every desktop group row carries, whatever its kind. */
export interface DesktopGroupBase extends Record<string, unknown> {
  uuid: string;
  name: string;
  kind: string;
  template: string;
  template_name: string;
  template_status: string;
  pool_uuid: string;
  network_uuid: string | null;
  subnet_uuid: string | null;
  vcpu: number;
  ram: number;
  sys_restore: number;
  data_restore: number;
  inactive_count: number;
  active_count: number;
  total_count: number;
  prefix: string;
  postfix: number;
  postfix_start: number;
  state: 'building' | 'ready' | 'deleting';
  created_at: string;
}

/** The fields every desktop row carries. */
export interface DesktopBase extends Record<string, unknown> {
  uuid: string;
  name: string;
  desktop_group: string;
  status: 'inactive' | 'active' | 'error' | 'updating' | 'unknown';
  desktop_ip: string;
  mac: string;
  node_uuid: string;
  start_datetime: string | null;
  state: 'building' | 'ready' | 'deleting';
}

/** A desktop's power status as a label colour. */
export const STATUS_COLOR: Record<string, 'green' | 'grey' | 'red' | 'blue' | 'orange'> = {
  active: 'green',
  inactive: 'grey',
  error: 'red',
  updating: 'blue',
  unknown: 'orange',
};

/** A group's or desktop's life phase as a label colour. */
export const PHASE_COLOR: Record<string, 'green' | 'blue' | 'orange'> = { ready: 'green', building: 'blue', deleting: 'orange' };
