// The rows of the network listings (GET /api/v1.0/vswitch|network|subnet|bond|node/).
export interface Uplink {
  node_uuid: string;
  nic_uuid: string;
  interface?: string;
}
export interface VSwitch extends Record<string, unknown> {
  uuid: string;
  name: string;
  type: string;
  desc: string;
  uplinks: Uplink[];
  network_count: number;
}
export interface Network extends Record<string, unknown> {
  uuid: string;
  name: string;
  switch_uuid: string;
  switch_name: string;
  switch_type: string;
  vlan_id: number | null;
  bridge: string;
}
export interface Subnet extends Record<string, unknown> {
  uuid: string;
  name: string;
  network_uuid: string;
  start_ip: string;
  end_ip: string;
  netmask: string;
  gateway: string;
  dns1: string;
  dns2: string;
  used: number;
  total: number;
}
export interface NodeIp {
  ip: string;
  netmask: string;
  is_manage?: boolean;
  is_image?: boolean;
}
export interface NodeNic {
  uuid: string;
  interface: string;
  mac: string;
  driver?: string | null;
  speed?: number | null;
  gateway?: string | null;
  ip_list: NodeIp[];
  is_manage?: boolean;
  is_image?: boolean;
}
export interface Node extends Record<string, unknown> {
  uuid: string;
  name: string;
  hostname: string;
  ip: string;
  role: string;
  status: string;
  pool_uuid: string;
  local: boolean;
  nics: NodeNic[];
  sockets: number;
  cores: number;
  threads: number;
  memory_gb: number;
  cpu_model?: string;
  gpu_count?: number;
  manage_interface?: string;
  image_interface?: string;
  data_interface?: string;
  inventory?: unknown;
}
export interface Bond extends Record<string, unknown> {
  uuid: string;
  node_uuid: string;
  dev: string;
  mode: number;
  slaves: string[];
  ip_list: { ip: string; netmask: string }[];
}
