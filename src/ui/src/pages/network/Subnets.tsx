// Subnets (address pools): the listing with address usage (allocated of
// total) as a Progress bar, filtered by network; create, edit, delete.
import { Button, Form, FormGroup, FormSelect, FormSelectOption, Modal, ModalBody, ModalFooter, ModalHeader, Progress, ProgressMeasureLocation, ProgressSize, ToolbarItem } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtNumber } from '../../i18n';
import { SubnetFields, SubnetValues, emptySubnet } from './SubnetFields';
import { Network, Subnet } from './types';

function SubnetForm({ subnet, networks, network, onClose }: { subnet: Subnet | null; networks: Network[]; network: string; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const [net, setNet] = useState(subnet?.network_uuid || network || networks[0]?.uuid || '');
  const [vals, setVals] = useState<SubnetValues>(subnet ? { name: subnet.name, start_ip: subnet.start_ip, end_ip: subnet.end_ip, netmask: subnet.netmask, gateway: subnet.gateway, dns1: subnet.dns1, dns2: subnet.dns2 } : emptySubnet);
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    try {
      if (subnet) await post('/api/v1/subnet/update', { uuid: subnet.uuid, value: vals });
      else await post('/api/v1/subnet/create', { ...vals, network_uuid: net });
      notify('success', t('subnets.saved', { name: vals.name }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="medium" isOpen onClose={() => onClose(false)} aria-labelledby="subnet-form-title" data-testid="subnet-form">
      <ModalHeader title={subnet ? t('subnets.editTitle', { name: subnet.name }) : t('subnets.createTitle')} labelId="subnet-form-title" />
      <ModalBody>
        <Form id="subnet-form" onSubmit={submit} isHorizontal>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('subnets.network')} fieldId="subnet-network" isRequired>
            <FormSelect id="subnet-network" value={net} onChange={(_e, v) => setNet(v)} isDisabled={!!subnet} validated={fe.v('network_uuid')}>
              {networks.map((n) => (
                <FormSelectOption key={n.uuid} value={n.uuid} label={n.name} />
              ))}
            </FormSelect>
            {fe.help('network_uuid')}
          </FormGroup>
          <SubnetFields values={vals} onChange={setVals} fe={fe} prefix="" idPrefix="subnet-form" />
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="subnet-form" isLoading={busy} isDisabled={busy || !net} data-testid="subnet-form-submit">
          {subnet ? t('common:save') : t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Usage({ used, total, label }: { used: number; total: number; label: string }) {
  const { t } = useTranslation('network');
  return (
    <Progress
      value={total ? (used / total) * 100 : 0}
      size={ProgressSize.sm}
      measureLocation={ProgressMeasureLocation.outside}
      label={t('subnets.usage', { used: fmtNumber(used), total: fmtNumber(total), free: fmtNumber(total - used) })}
      aria-label={label}
      style={{ minWidth: '14rem' }}
    />
  );
}

export function Subnets() {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const networks = useLoad(() => listAll<Network>('network'), []);
  const [network, setNetwork] = useState('');
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<Subnet | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Subnet | null>(null);
  const netName = (u: string) => networks.data?.find((n) => n.uuid === u)?.name || u.slice(0, 8);
  return (
    <>
      <ErrorAlert error={networks.error} />
      <ListView<Subnet>
        resource="subnet"
        ariaLabel={t('tabs.subnets')}
        testId="subnets-list"
        reloadKey={reload}
        rowName={(r) => r.name}
        filters={{ network_uuid: network || undefined }}
        searchFields={[
          { field: 'name', label: t('common:name') },
          { field: 'start_ip', label: t('subnets.start_ip') },
        ]}
        toolbar={
          <>
            <ToolbarItem>
              <FormSelect value={network} onChange={(_e, v) => setNetwork(v)} aria-label={t('subnets.filterNetwork')}>
                <FormSelectOption value="" label={t('subnets.allNetworks')} />
                {(networks.data || []).map((n) => (
                  <FormSelectOption key={n.uuid} value={n.uuid} label={n.name} />
                ))}
              </FormSelect>
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="primary" onClick={() => setEditing('new')} isDisabled={!networks.data?.length} data-testid="subnets-create">
                {t('subnets.create')}
              </Button>
            </ToolbarItem>
          </>
        }
        columns={[
          { key: 'name', title: t('common:name') },
          { key: 'network_uuid', title: t('subnets.network'), render: (r) => netName(r.network_uuid) },
          { key: 'range', title: t('subnets.range'), render: (r) => `${r.start_ip} – ${r.end_ip}` },
          { key: 'netmask', title: t('subnets.netmask') },
          { key: 'gateway', title: t('subnets.gateway') },
          { key: 'dns', title: t('subnets.dns'), render: (r) => [r.dns1, r.dns2].filter(Boolean).join(', ') || '—' },
          { key: 'used', title: t('subnets.addresses'), render: (r) => <Usage used={r.used} total={r.total} label={t('subnets.usageOf', { name: r.name })} /> },
        ]}
        rowActions={(r) => [
          { title: t('common:edit'), onClick: () => setEditing(r), isDisabled: !networks.data },
          { title: t('common:delete'), onClick: () => setDeleting(r), isDanger: true },
        ]}
      />
      {editing && networks.data && (
        <SubnetForm
          subnet={editing === 'new' ? null : editing}
          networks={networks.data}
          network={network}
          onClose={(s) => {
            setEditing(null);
            if (s) setReload((n) => n + 1);
          }}
        />
      )}
      {deleting && (
        <ConfirmModal
          title={t('subnets.deleteTitle', { name: deleting.name })}
          body={<p>{deleting.used > 0 ? t('subnets.deleteInUse', { name: deleting.name, count: deleting.used }) : t('subnets.deleteBody', { name: deleting.name, start: deleting.start_ip, end: deleting.end_ip })}</p>}
          confirmLabel={t('common:delete')}
          onConfirm={() => post('/api/v1/subnet/delete', { uuid: deleting.uuid })}
          onClose={(ok) => {
            if (ok) {
              notify('success', t('subnets.deleted', { name: deleting.name }));
              setReload((n) => n + 1);
            }
            setDeleting(null);
          }}
        />
      )}
    </>
  );
}
