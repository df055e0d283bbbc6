// The wizard's hardware steps, from the probe (node/check): the network
// interfaces (management IP, the three NIC roles, desktops on this server)
// and the storage roles per mount point.
import { Alert, Checkbox, Content, Form, FormGroup, FormSelect, FormSelectOption, Grid, GridItem, Label, List, ListItem } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useTranslation } from 'react-i18next';
import { fmtGB, fmtNumber } from '../../i18n';
import { Help, StepProps } from './AccountSteps';
import { missingRoles, Mount, mountsOf, Nic, nicsOf, Probe, ROLES } from './model';

function useSpeed() {
  const { t } = useTranslation('setup');
  return (mbps: number) => (!mbps || mbps <= 0 ? t('nic.speedUnknown') : mbps >= 1000 ? t('nic.gbps', { n: fmtNumber(mbps / 1000, 1) }) : t('nic.mbps', { n: fmtNumber(mbps) }));
}

export function NetworkStep({ f, set, fe, probe }: StepProps & { probe: Probe }) {
  const { t } = useTranslation('setup');
  const speed = useSpeed();
  const nics = nicsOf(probe);
  const withIp = nics.filter((n) => n.ip);
  const nicLabel = (n: Nic) => {
    const parts = [n.ip || t('nic.noAddress')];
    if (n.speed > 0) parts.push(speed(n.speed));
    if (!n.stat) parts.push(t('nic.linkDown'));
    return `${n.interface} — ${parts.join(', ')}`;
  };
  const follow = (manage: string, touched = f.touched) => ({
    manage_interface: manage,
    image_interface: touched.includes('image_interface') ? f.image_interface : manage,
    data_interface: touched.includes('data_interface') ? f.data_interface : manage,
  });
  const onIp = (ip: string) => set({ ip, ...follow(nics.find((n) => n.ip === ip)?.interface || f.manage_interface) });
  const v = probe.virtualization || {};
  const virtBits = [v.cpu_flag && t('virt.cpuFlag', { flag: v.cpu_flag }), v.kvm_device && t('virt.kvm'), v.libvirt].filter(Boolean).join(', ');
  const nicSelect = (id: 'manage_interface' | 'image_interface' | 'data_interface') => (
    <FormGroup label={t(`network.${id}`)} fieldId={id} isRequired={id === 'manage_interface'}>
      <FormSelect
        id={id}
        data-testid={`setup-${id.replace('_', '-')}`}
        value={f[id]}
        validated={fe.v(id)}
        onChange={(_e, val) =>
          id === 'manage_interface' ? set(follow(val)) : set({ [id]: val, touched: [...new Set([...f.touched, id])] } as Partial<typeof f>)
        }
      >
        {nics.map((n) => (
          <FormSelectOption key={n.interface} value={n.interface} label={nicLabel(n)} />
        ))}
      </FormSelect>
      {fe.help(id) || <Help text={t(`network.${id}Help`)} />}
    </FormGroup>
  );
  return (
    <Form onSubmit={(e) => e.preventDefault()} data-testid="setup-network-form">
      <Content component="p">{t('network.found', { host: probe.hostname || t('network.thisServer') })}</Content>
      <Table aria-label={t('nic.table')} variant="compact" data-testid="setup-nic-table">
        <Thead>
          <Tr>
            <Th>{t('nic.interface')}</Th>
            <Th>{t('nic.address')}</Th>
            <Th>{t('nic.mac')}</Th>
            <Th>{t('nic.speed')}</Th>
            <Th>{t('nic.link')}</Th>
            <Th>{t('nic.driver')}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {nics.map((n) => (
            <Tr key={n.interface} data-testid="setup-nic" data-name={n.interface}>
              <Td dataLabel={t('nic.interface')}>
                <strong>{n.interface}</strong> {n.bridge && <Label isCompact>{t('nic.inBridge', { bridge: n.bridge })}</Label>}
              </Td>
              <Td dataLabel={t('nic.address')}>{n.ip ? `${n.ip} / ${n.mask || '?'}` : '—'}</Td>
              <Td dataLabel={t('nic.mac')}>
                <code>{n.mac || '—'}</code>
              </Td>
              <Td dataLabel={t('nic.speed')}>{speed(n.speed)}</Td>
              <Td dataLabel={t('nic.link')}>
                <Label isCompact color={n.stat ? 'green' : 'red'}>
                  {n.stat ? t('nic.up') : t('nic.down')}
                </Label>
              </Td>
              <Td dataLabel={t('nic.driver')}>{[n.driver, n.pci].filter(Boolean).join(' · ') || '—'}</Td>
            </Tr>
          ))}
          {nics.length === 0 && (
            <Tr>
              <Td colSpan={6}>{t('nic.none')}</Td>
            </Tr>
          )}
        </Tbody>
      </Table>
      {withIp.length === 0 && <Alert component="h3" variant="danger" isInline title={t('network.noIp')} data-testid="error-alert" />}
      <Grid hasGutter md={6}>
        <GridItem>
          <FormGroup label={t('network.ip')} fieldId="ip" isRequired>
            <FormSelect id="ip" data-testid="setup-ip" value={f.ip} validated={fe.v('ip')} onChange={(_e, val) => onIp(val)}>
              {withIp.map((n) => (
                <FormSelectOption key={n.interface} value={n.ip} label={`${n.ip} — ${n.interface}`} />
              ))}
            </FormSelect>
            {fe.help('ip') || <Help text={t('network.ipHelp')} />}
          </FormGroup>
        </GridItem>
        <GridItem>{nicSelect('manage_interface')}</GridItem>
        <GridItem>{nicSelect('image_interface')}</GridItem>
        <GridItem>{nicSelect('data_interface')}</GridItem>
      </Grid>
      <FormGroup label={t('virt.title')} fieldId="is_compute" role="group">
        <Checkbox
          id="is_compute"
          data-testid="setup-is-compute"
          label={t('virt.isCompute')}
          description={t('virt.isComputeHelp')}
          isChecked={f.is_compute}
          isDisabled={!v.supported}
          onChange={(_e, val) => set({ is_compute: val })}
        />
        {v.supported ? (
          <Alert component="h3" variant="success" isInline isPlain title={virtBits ? t('virt.okWith', { what: virtBits }) : t('virt.ok')} />
        ) : (
          <Alert component="h3" variant="warning" isInline title={t('virt.missing')}>
            <List>
              {(v.missing && v.missing.length ? v.missing : [t('virt.notAvailable')]).map((m) => (
                <ListItem key={m}>{m}</ListItem>
              ))}
            </List>
            <p>{t('virt.fix')}</p>
          </Alert>
        )}
      </FormGroup>
    </Form>
  );
}

export function StorageStep({ f, set, fe, probe }: StepProps & { probe: Probe }) {
  const { t } = useTranslation('setup');
  const mounts = mountsOf(probe);
  const missing = missingRoles(f);
  const toggle = (m: Mount, role: number, on: boolean) => {
    const cur = f.roles[m.path] || [];
    set({ roles: { ...f.roles, [m.path]: on ? [...new Set([...cur, role])] : cur.filter((r) => r !== role) } });
  };
  const type = (m: Mount) => (m.type === 'ssd' ? t('storage.ssd') : m.type === 'hdd' ? t('storage.hdd') : t('storage.unknown'));
  return (
    <Form onSubmit={(e) => e.preventDefault()} data-testid="setup-storage-form">
      <Content component="p">{t('storage.intro')}</Content>
      <Table aria-label={t('storage.table')} variant="compact" data-testid="setup-storage-table">
        <Thead>
          <Tr>
            <Th>{t('storage.path')}</Th>
            <Th>{t('storage.type')}</Th>
            <Th>{t('storage.size')}</Th>
            <Th>{t('storage.free')}</Th>
            {ROLES.map((r) => (
              <Th key={r} textCenter modifier="wrap">
                {t(`role.${r}`)}
              </Th>
            ))}
          </Tr>
        </Thead>
        <Tbody>
          {mounts.map((m) => (
            <Tr key={m.path} data-testid="setup-mount" data-name={m.path}>
              <Td dataLabel={t('storage.path')}>
                <code>{m.path}</code>
                <div className="vdi-muted">{[m.device, m.fs].filter(Boolean).join(', ')}</div>
              </Td>
              <Td dataLabel={t('storage.type')}>{type(m)}</Td>
              <Td dataLabel={t('storage.size')}>{fmtGB(m.total_gb)}</Td>
              <Td dataLabel={t('storage.free')}>{fmtGB(m.free_gb)}</Td>
              {m.usable ? (
                ROLES.map((r) => (
                  <Td key={r} textCenter dataLabel={t(`role.${r}`)}>
                    <Checkbox
                      id={`role-${r}-${m.path}`}
                      data-testid="setup-role"
                      data-path={m.path}
                      data-role={r}
                      aria-label={t('storage.roleOn', { role: t(`role.${r}`), path: m.path })}
                      isChecked={(f.roles[m.path] || []).includes(r)}
                      onChange={(_e, on) => toggle(m, r, on)}
                    />
                  </Td>
                ))
              ) : (
                <Td colSpan={4} className="vdi-muted">
                  {t('storage.notUsable', { reason: m.reason || t('storage.unknownReason') })}
                </Td>
              )}
            </Tr>
          ))}
          {mounts.length === 0 && (
            <Tr>
              <Td colSpan={8}>{t('storage.none')}</Td>
            </Tr>
          )}
        </Tbody>
      </Table>
      {missing.length > 0 && fe.v('storages') !== 'error' && (
        <Alert component="h3" variant="info" isInline title={t('storage.missing', { roles: missing.map((r) => t(`role.${r}`)).join(t('listSep')) })} />
      )}
    </Form>
  );
}
