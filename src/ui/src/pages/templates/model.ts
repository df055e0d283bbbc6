// The template row as the web listing sends it, and the calls every view
// of a template shares (power, delete, download as a blob with the token).
import { ApiError, call, get, getSession, listAll, post } from '../../api';

export interface Device {
  uuid: string;
  type: 'system' | 'data';
  device_name: string;
  boot_index: number;
  size: number;
  used: number | null;
}

export interface Template extends Record<string, unknown> {
  uuid: string;
  name: string;
  desc: string;
  os_type: string | null;
  pool_uuid: string;
  node_uuid: string;
  network_uuid: string | null;
  network_name: string | null;
  subnet_uuid: string | null;
  subnet_name: string | null;
  bind_ip: string;
  mac: string;
  vcpu: number;
  ram: number;
  base_image: string | null;
  attach: string | null;
  groups: { uuid: string; name: string | null }[];
  version: number;
  versions: number[];
  status: string;
  power: string;
  desktop_count: number;
  terminal_count: number;
  devices: Device[];
  created_at: string;
  updated_time: string;
}

export const TEMPLATES = '/api/v1.0/voi/education/template/';

export async function getTemplate(uuid: string, signal?: AbortSignal): Promise<Template> {
  const p = await get<{ results: Template[] }>(`${TEMPLATES}?searchtype=all&page=1&page_size=1&uuid=${encodeURIComponent(uuid)}`, signal);
  if (!p.results[0]) throw new ApiError(`Template ${uuid} does not exist`, 404, 404);
  return p.results[0];
}

export type PowerVerb = 'start' | 'stop' | 'hard_stop' | 'reboot' | 'hard_reboot';

/** A power action through the web dialect's batch (one item answers its own error). */
export function power(t: Template, verb: PowerVerb) {
  return post(TEMPLATES, { action: verb, param: { templates: [{ uuid: t.uuid, name: t.name }] } });
}

/** The desktop groups made from the template (their names, for delete). */
export async function desktopGroupsOf(uuid: string): Promise<string[]> {
  const rows = await listAll<{ name: string }>('desktop_group', { template: uuid });
  return rows.map((r) => r.name);
}

/** Saves the exported file the download task made, sending the token. */
export async function saveExport(url: string, name: string) {
  await get('/api/v1.0/resource_pool/?searchtype=all&page=1&page_size=1'); // refreshes an expired token
  const s = getSession();
  const res = await fetch(url, { headers: s ? { Authorization: 'Bearer ' + s.access_token } : {} });
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try {
      const env = await res.json();
      if (env?.msg) msg = env.msg;
    } catch {
      /* no envelope */
    }
    throw new ApiError(msg, res.status, res.status);
  }
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${name}.qcow2`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/** Offers a text as a file download (the console's own helper). */
export { saveFile as saveText } from '../../components/vmconsole/session';

export const putTemplate = (t: Template, value: Record<string, unknown>) => call('PUT', '/api/v1.0/voi/education/template', { uuid: t.uuid, name: t.name, value });

export const STATUS_COLOR: Record<string, 'green' | 'grey' | 'red' | 'blue' | 'orange'> = {
  active: 'green',
  inactive: 'grey',
  error: 'red',
  updating: 'blue',
  installing: 'orange',
};

/**
 * The address a new template would get in a subnet. The route answers
 * `{"ipaddr": …}` without the envelope (as file 001 documents), so it is
 * read here rather than through `call`.
 */
export async function suggestIp(subnet: string, signal?: AbortSignal): Promise<string> {
  await get('/api/v1.0/resource_pool/?searchtype=all&page=1&page_size=1', signal); // refreshes an expired token
  const s = getSession();
  const res = await fetch(`${TEMPLATES}ipaddr/?subnet_uuid=${encodeURIComponent(subnet)}`, {
    headers: s ? { Authorization: 'Bearer ' + s.access_token, Accept: 'application/json' } : {},
    signal,
  });
  const body = await res.json().catch(() => null);
  if (body && typeof body.ipaddr === 'string') return body.ipaddr;
  throw new ApiError(body?.msg || `HTTP ${res.status}`, body?.code ?? -1, res.status);
}
