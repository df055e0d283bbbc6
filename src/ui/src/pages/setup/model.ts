// The setup wizard's data: the probe's reply (node/check), the form's state,
// its checks before anything is sent, and the controller/init body.
import { ApiError } from '../../api';

export interface Nic {
  interface: string;
  ip: string;
  mask: string;
  mac: string;
  speed: number;
  stat: boolean;
  driver: string | null;
  pci: string | null;
  bridge: string | null;
}

export interface Mount {
  path: string;
  device?: string;
  fs?: string;
  type?: string;
  total_gb?: number;
  free_gb?: number;
  usable: boolean;
  reason?: string | null;
}

export interface Probe {
  hostname?: string;
  interface_list?: Nic[];
  storage_list?: Mount[];
  default_route?: { gateway?: string; interface?: string } | null;
  virtualization?: { supported?: boolean; cpu_flag?: string; kvm_device?: boolean; libvirt?: string; missing?: string[] };
}

export const ROLES = [1, 2, 3, 4] as const;

export interface Form {
  setup_token: string;
  name: string;
  password: string;
  password2: string;
  setRoot: boolean;
  root_password: string;
  root_password2: string;
  ip: string;
  manage_interface: string;
  image_interface: string;
  data_interface: string;
  /** Image and data interfaces follow the management one until changed by hand. */
  touched: string[];
  is_compute: boolean;
  /** Mount point → the roles ticked on it. */
  roles: Record<string, number[]>;
  switch_name: string;
  network_name: string;
  switch_type: 'flat' | 'vlan';
  vlan_id: string;
  subnetMode: 'derive' | 'enter';
  subnet: { start_ip: string; end_ip: string; netmask: string; gateway: string; dns1: string; dns2: string };
}

export const emptyForm = (): Form => ({
  setup_token: '',
  name: 'admin',
  password: '',
  password2: '',
  setRoot: false,
  root_password: '',
  root_password2: '',
  ip: '',
  manage_interface: '',
  image_interface: '',
  data_interface: '',
  touched: [],
  is_compute: false,
  roles: {},
  switch_name: 'default',
  network_name: 'default',
  switch_type: 'flat',
  vlan_id: '',
  subnetMode: 'derive',
  subnet: { start_ip: '', end_ip: '', netmask: '', gateway: '', dns1: '', dns2: '' },
});

// ---------------------------------------------------------------- IPv4

export function isIPv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}
const ipNum = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const ipStr = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
export function maskBits(mask: string): number | null {
  if (!isIPv4(mask)) return null;
  const bits = ipNum(mask).toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(bits)) return null;
  return bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
}

// ---------------------------------------------------------------- defaults from the probe

/** The form's first values from the probe: the default route's address, the interfaces that carry it, roles on a single place. */
export function formFromProbe(f: Form, p: Probe): Form {
  const nics = nicsOf(p);
  const withIp = nics.filter((n) => n.ip);
  const routeNic = withIp.find((n) => n.interface === p.default_route?.interface);
  const ip = (routeNic || withIp[0])?.ip || '';
  const manage = nics.find((n) => n.ip === ip)?.interface || nics[0]?.interface || '';
  const usable = mountsOf(p).filter((m) => m.usable);
  const roles: Record<string, number[]> = {};
  if (usable.length === 1) roles[usable[0].path] = [...ROLES];
  return { ...f, ip, manage_interface: manage, image_interface: manage, data_interface: manage, touched: [], is_compute: !!p.virtualization?.supported, roles };
}

export const nicsOf = (p: Probe | null) => (Array.isArray(p?.interface_list) ? p!.interface_list!.filter((n) => n && n.interface) : []);
export const mountsOf = (p: Probe | null) => (Array.isArray(p?.storage_list) ? p!.storage_list!.filter((m) => m && m.path) : []);

/** Guesses for empty subnet fields from the data interface's network. */
export function subnetGuess(f: Form, p: Probe | null): Partial<Form['subnet']> {
  if (f.switch_type === 'vlan') return {};
  const nic = nicsOf(p).find((n) => n.interface === f.data_interface);
  if (!nic || !nic.ip || !nic.mask) return {};
  const bits = maskBits(nic.mask);
  if (bits === null || bits > 30) return {};
  const size = 2 ** (32 - bits);
  const net = Math.floor(ipNum(nic.ip) / size) * size;
  const route = p?.default_route;
  const gw = route?.gateway && route.interface === nic.interface ? route.gateway : ipStr(net + 1);
  const g: Partial<Form['subnet']> = { netmask: nic.mask, gateway: gw, dns1: gw };
  if (size >= 256) {
    g.start_ip = ipStr(net + Math.floor(size / 2));
    g.end_ip = ipStr(net + size - 2);
  }
  return g;
}

// ---------------------------------------------------------------- checks

/** A check's failure: the field it is about and the catalogue key of its words. */
export interface Bad {
  field: string;
  key: string;
  opts?: Record<string, unknown>;
}

/** An error the wizard shows like the service's: its words and the field it names. */
export function localError(message: string, field: string): ApiError {
  const e = new ApiError(message, 0, 0);
  e.field = field;
  return e;
}

export function checkAdmin(f: Form, adminExists: boolean): Bad | null {
  if (!adminExists && !f.setup_token.trim()) return { field: 'setup_token', key: 'check.token' };
  if (!f.name.trim()) return { field: 'name', key: 'check.name' };
  if (!f.password) return { field: 'password', key: 'check.password' };
  if (!adminExists && f.password.length < 8) return { field: 'password', key: 'check.passwordShort' };
  if (!adminExists && f.password !== f.password2) return { field: 'password2', key: 'check.passwordSame' };
  return null;
}

export function checkRoot(f: Form): Bad | null {
  if (!f.setRoot) return null;
  const n = [...f.root_password].length;
  if (n < 8 || n > 128) return { field: 'root_password', key: 'check.rootLength' };
  if (f.root_password.includes(':')) return { field: 'root_password', key: 'check.rootColon' };
  if (f.root_password !== f.root_password2) return { field: 'root_password2', key: 'check.passwordSame' };
  return null;
}

export function checkNetwork(f: Form): Bad | null {
  if (!f.ip) return { field: 'ip', key: 'check.ip' };
  if (!f.manage_interface) return { field: 'manage_interface', key: 'check.manage' };
  return null;
}

export function missingRoles(f: Form): number[] {
  const covered = new Set(Object.values(f.roles).flat());
  return ROLES.filter((r) => !covered.has(r));
}

export function checkSwitch(f: Form): Bad | null {
  if (!f.switch_name.trim()) return { field: 'switch_name', key: 'check.switchName' };
  if (!f.network_name.trim()) return { field: 'network_name', key: 'check.networkName' };
  if (f.switch_type === 'vlan') {
    const id = Number(f.vlan_id);
    if (!f.vlan_id.trim() || !Number.isInteger(id) || id < 1 || id > 4094) return { field: 'vlan_id', key: 'check.vlan' };
  }
  if (f.subnetMode === 'enter' || f.switch_type === 'vlan') {
    const s = f.subnet;
    for (const k of ['start_ip', 'end_ip', 'netmask', 'gateway', 'dns1'] as const) {
      if (!isIPv4(s[k].trim())) return { field: `subnet_info.${k}`, key: 'check.ipv4', opts: { what: `subnet.${k}` } };
    }
    if (maskBits(s.netmask.trim()) === null) return { field: 'subnet_info.netmask', key: 'check.mask' };
    if (ipNum(s.start_ip.trim()) > ipNum(s.end_ip.trim())) return { field: 'subnet_info.start_ip', key: 'check.order' };
    if (s.dns2.trim() && !isIPv4(s.dns2.trim())) return { field: 'subnet_info.dns2', key: 'check.dns2' };
  }
  return null;
}

/** The controller/init body (async: a task). */
export function initBody(f: Form): Record<string, unknown> {
  const storages: Record<string, string> = {};
  for (const [path, roles] of Object.entries(f.roles)) if (roles.length) storages[path] = [...roles].sort((a, b) => a - b).join(',');
  const vlan = f.switch_type === 'vlan';
  const body: Record<string, unknown> = {
    async: true,
    ip: f.ip,
    manage_interface: f.manage_interface,
    image_interface: f.image_interface || f.manage_interface,
    data_interface: f.data_interface || f.manage_interface,
    network_name: f.network_name.trim(),
    switch_name: f.switch_name.trim(),
    switch_type: vlan ? 'vlan' : 'flat',
    storages,
    is_compute: f.is_compute,
  };
  if (vlan) body.vlan_id = Number(f.vlan_id);
  if (f.subnetMode === 'enter' || vlan) {
    const s = f.subnet;
    const sub: Record<string, string> = { name: `${body.network_name}-subnet` };
    for (const k of ['start_ip', 'end_ip', 'netmask', 'gateway', 'dns1'] as const) sub[k] = s[k].trim();
    if (s.dns2.trim()) sub.dns2 = s.dns2.trim();
    body.subnet_info = sub;
  }
  return body;
}

/** Which step holds a field the service or a check names. */
export function stepOfField(field: string | undefined): string | null {
  if (!field) return null;
  if (['setup_token', 'name', 'password', 'password2'].includes(field)) return 'admin';
  if (field.startsWith('root_password')) return 'root';
  if (['ip', 'manage_interface', 'image_interface', 'data_interface', 'is_compute'].includes(field)) return 'network';
  if (field.startsWith('storages')) return 'storage';
  if (['switch_name', 'network_name', 'switch_type', 'vlan_id'].includes(field) || field.startsWith('subnet_info')) return 'switch';
  return null;
}
