// What the join wizard shows: the node/check result, the placement form
// (pool, switch, network, the three NICs) and the review.
import { Alert, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Form, FormGroup, FormSelect, FormSelectOption, Label, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useTranslation } from 'react-i18next';
import { fmtBytes } from '../../i18n';
import { Network, VSwitch } from '../network/types';

export interface CheckNic {
  interface: string;
  ip: string;
  mask: string;
  mac: string;
  driver: string | null;
  speed: number;
  stat: boolean;
  bridge: string | null;
}
export interface CheckResult {
  hostname: string;
  version?: string;
  host_key?: string;
  interface_list: CheckNic[];
  default_route?: { gateway: string; interface: string } | null;
  default_network_info?: { virtual_switch?: { uuid: string; name: string }; network_info?: { uuid: string; name: string } };
  storage_list: { path: string; device: string; fs: string; type: string; total: number; free: number; usable: boolean; reason: string | null }[];
  virtualization: { supported: boolean; cpu_flag: string | null; kvm_device: boolean; libvirt: string | null; missing: string[] };
  service?: { running: boolean; role?: string; error?: string };
  role_paths?: { path: string; roles: string; present: boolean }[];
}
export interface Placement {
  pool_uuid: string;
  switch_uuid: string;
  network_uuid: string;
  interface: string;
  manage_interface: string;
  image_interface: string;
}
type Named = { uuid: string; name: string };

export function CheckView({ check }: { check: CheckResult }) {
  const { t } = useTranslation('servers');
  const v = check.virtualization;
  const missing = (check.role_paths || []).filter((p) => !p.present);
  return (
    <div data-testid="join-check-result" style={{ marginTop: '1rem' }}>
      <Alert isInline variant={v.supported && missing.length === 0 ? 'success' : 'warning'} title={t('join.checked', { name: check.hostname })} />
      <DescriptionList isCompact isHorizontal columnModifier={{ default: '2Col' }} style={{ marginTop: '1rem' }}>
        <DescriptionListGroup>
          <DescriptionListTerm>{t('hostname')}</DescriptionListTerm>
          <DescriptionListDescription>{check.hostname}</DescriptionListDescription>
        </DescriptionListGroup>
        {check.version && (
          <DescriptionListGroup>
            <DescriptionListTerm>{t('join.version')}</DescriptionListTerm>
            <DescriptionListDescription>{check.version}</DescriptionListDescription>
          </DescriptionListGroup>
        )}
        <DescriptionListGroup>
          <DescriptionListTerm>{t('join.virt')}</DescriptionListTerm>
          <DescriptionListDescription>
            <Label color={v.supported ? 'green' : 'red'}>{v.supported ? t('join.virtOk') : t('join.virtNo')}</Label> {v.cpu_flag || ''} {v.libvirt || ''}
            {v.missing.length > 0 && <div>{v.missing.join('; ')}</div>}
          </DescriptionListDescription>
        </DescriptionListGroup>
        {check.default_route && (
          <DescriptionListGroup>
            <DescriptionListTerm>{t('join.route')}</DescriptionListTerm>
            <DescriptionListDescription>{t('join.routeVia', { gateway: check.default_route.gateway, nic: check.default_route.interface })}</DescriptionListDescription>
          </DescriptionListGroup>
        )}
      </DescriptionList>
      <Title headingLevel="h3" size="md" style={{ marginTop: '1rem' }}>
        {t('nics.title')}
      </Title>
      <Table aria-label={t('nics.title')} variant="compact">
        <Thead>
          <Tr>
            <Th>{t('nics.name')}</Th>
            <Th>{t('nics.addresses')}</Th>
            <Th>{t('nics.mac')}</Th>
            <Th>{t('nics.driver')}</Th>
            <Th>{t('nics.speed')}</Th>
            <Th>{t('nics.link')}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {check.interface_list.map((n) => (
            <Tr key={n.interface}>
              <Td dataLabel={t('nics.name')}>{n.interface}</Td>
              <Td dataLabel={t('nics.addresses')}>{n.ip ? `${n.ip} / ${n.mask}` : '—'}</Td>
              <Td dataLabel={t('nics.mac')}>{n.mac}</Td>
              <Td dataLabel={t('nics.driver')}>{n.driver || '—'}</Td>
              <Td dataLabel={t('nics.speed')}>{n.speed ? t('nics.mbps', { n: n.speed }) : '—'}</Td>
              <Td dataLabel={t('nics.link')}>{n.stat ? t('nics.up') : t('nics.down')}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      <Title headingLevel="h3" size="md" style={{ marginTop: '1rem' }}>
        {t('join.filesystems')}
      </Title>
      <Table aria-label={t('join.filesystems')} variant="compact">
        <Thead>
          <Tr>
            <Th>{t('storage.path')}</Th>
            <Th>{t('storage.device')}</Th>
            <Th>{t('storage.size')}</Th>
            <Th>{t('storage.free')}</Th>
            <Th>{t('join.usable')}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {check.storage_list.map((s) => (
            <Tr key={s.path}>
              <Td dataLabel={t('storage.path')}>{s.path}</Td>
              <Td dataLabel={t('storage.device')}>{`${s.device} (${s.fs}, ${s.type})`}</Td>
              <Td dataLabel={t('storage.size')}>{fmtBytes(s.total)}</Td>
              <Td dataLabel={t('storage.free')}>{fmtBytes(s.free)}</Td>
              <Td dataLabel={t('join.usable')}>{s.usable ? t('common:yes') : s.reason || t('common:no')}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {missing.length > 0 && (
        <Alert isInline variant="danger" title={t('join.pathsMissing')} style={{ marginTop: '1rem' }}>
          {missing.map((p) => `${p.path} (${t('join.roles', { roles: p.roles })})`).join(', ')}
        </Alert>
      )}
    </div>
  );
}

export function Placement(p: { check: CheckResult; place: Placement; setPlace: (x: Placement) => void; pools: Named[]; switches: VSwitch[]; networks: Network[] }) {
  const { t } = useTranslation('servers');
  const set = (k: keyof Placement, v: string) => p.setPlace({ ...p.place, [k]: v, ...(k === 'switch_uuid' ? { network_uuid: p.networks.find((n) => n.switch_uuid === v)?.uuid || '' } : {}) });
  const nets = p.networks.filter((n) => n.switch_uuid === p.place.switch_uuid);
  const nicOpts = p.check.interface_list.map((n) => <FormSelectOption key={n.interface} value={n.interface} label={n.ip ? `${n.interface} (${n.ip})` : n.interface} />);
  const select = (k: keyof Placement, label: string, opts: React.ReactNode, help?: string) => (
    <FormGroup label={label} fieldId={`join-${k}`} isRequired>
      <FormSelect id={`join-${k}`} data-testid={`join-${k}`} value={p.place[k]} onChange={(_e, v) => set(k, v)}>
        <FormSelectOption value="" label={t('join.choose')} isDisabled />
        {opts}
      </FormSelect>
      {help && <div className="vdi-muted">{help}</div>}
    </FormGroup>
  );
  return (
    <Form isHorizontal>
      {select('pool_uuid', t('pool'), p.pools.map((x) => <FormSelectOption key={x.uuid} value={x.uuid} label={x.name} />))}
      {select('switch_uuid', t('join.switch'), p.switches.map((x) => <FormSelectOption key={x.uuid} value={x.uuid} label={x.name} />))}
      {select('network_uuid', t('join.network'), nets.map((x) => <FormSelectOption key={x.uuid} value={x.uuid} label={x.name} />))}
      {select('interface', t('dataNic'), nicOpts, t('join.dataNicHelp'))}
      {select('manage_interface', t('manageNic'), nicOpts, t('join.manageNicHelp'))}
      {select('image_interface', t('imageNic'), nicOpts, t('join.imageNicHelp'))}
    </Form>
  );
}

export function Review(p: { ip: string; check: CheckResult; place: Placement; pools: Named[]; switches: Named[]; networks: Named[] }) {
  const { t } = useTranslation('servers');
  const name = (list: Named[], u: string) => list.find((x) => x.uuid === u)?.name || u;
  const rows: [string, string][] = [
    [t('ip'), p.ip],
    [t('hostname'), p.check.hostname],
    [t('pool'), name(p.pools, p.place.pool_uuid)],
    [t('join.switch'), name(p.switches, p.place.switch_uuid)],
    [t('join.network'), name(p.networks, p.place.network_uuid)],
    [t('dataNic'), p.place.interface],
    [t('manageNic'), p.place.manage_interface],
    [t('imageNic'), p.place.image_interface],
  ];
  return (
    <>
      <p>{t('join.reviewHelp')}</p>
      <DescriptionList isHorizontal isCompact data-testid="join-review">
        {rows.map(([k, v]) => (
          <DescriptionListGroup key={k}>
            <DescriptionListTerm>{k}</DescriptionListTerm>
            <DescriptionListDescription>{v}</DescriptionListDescription>
          </DescriptionListGroup>
        ))}
      </DescriptionList>
    </>
  );
}
