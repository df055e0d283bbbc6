// Networks: the listing (switch, VLAN, bridge), create with its first
// subnet, rename, delete with confirmation.
import { Button, Form, FormGroup, FormSelect, FormSelectOption, Modal, ModalBody, ModalFooter, ModalHeader, TextInput, Title, ToolbarItem } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { useNetConfirm } from './confirm';
import { SubnetFields, SubnetValues, emptySubnet } from './SubnetFields';
import { Network, VSwitch } from './types';

function NetworkForm({ onClose }: { onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const netConfirm = useNetConfirm();
  const switches = useLoad(() => listAll<VSwitch>('vswitch'), []);
  const [name, setName] = useState('');
  const [sw, setSw] = useState('');
  const [vlan, setVlan] = useState('');
  const [sub, setSub] = useState<SubnetValues>({ ...emptySubnet, name: 'default' });
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const chosen = switches.data?.find((s) => s.uuid === (sw || switches.data?.[0]?.uuid));
  const isVlan = chosen?.type.toLowerCase() === 'vlan';
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!chosen) return;
    setBusy(true);
    fe.clear();
    try {
      const { name: subnet_name, ...rest } = sub;
      const body: Record<string, unknown> = { name, switch_uuid: chosen.uuid, subnet_info: { subnet_name, ...rest } };
      if (isVlan) body.vlan_id = Number(vlan);
      netConfirm(await post('/api/v1/network/create', body));
      notify('success', t('networks.created', { name }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="medium" isOpen onClose={() => onClose(false)} aria-labelledby="network-form-title" data-testid="network-form">
      <ModalHeader title={t('networks.createTitle')} labelId="network-form-title" />
      <ModalBody>
        <Form id="network-form" onSubmit={submit} isHorizontal>
          <ErrorAlert error={fe.error || switches.error} />
          <FormGroup label={t('common:name')} fieldId="network-name" isRequired>
            <TextInput id="network-name" data-testid="network-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('name')} isRequired />
            {fe.help('name')}
          </FormGroup>
          <FormGroup label={t('networks.switch')} fieldId="network-switch" isRequired>
            <FormSelect id="network-switch" value={chosen?.uuid || ''} onChange={(_e, v) => setSw(v)} validated={fe.v('switch_uuid')}>
              {(switches.data || []).map((s) => (
                <FormSelectOption key={s.uuid} value={s.uuid} label={`${s.name} (${s.type.toLowerCase() === 'vlan' ? t('switches.vlan') : t('switches.flat')})`} />
              ))}
            </FormSelect>
            {fe.help('switch_uuid')}
          </FormGroup>
          {isVlan && (
            <FormGroup label={t('networks.vlan')} fieldId="network-vlan" isRequired>
              <TextInput id="network-vlan" type="number" value={vlan} onChange={(_e, v) => setVlan(v)} validated={fe.v('vlan_id')} />
              {fe.help('vlan_id')}
            </FormGroup>
          )}
          <Title headingLevel="h3" size="md">
            {t('networks.firstSubnet')}
          </Title>
          <SubnetFields values={sub} onChange={setSub} fe={fe} prefix="subnet_info." idPrefix="network-subnet" nameField="subnet_info.subnet_name" />
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="network-form" isLoading={busy} isDisabled={busy || !name.trim() || !chosen} data-testid="network-form-submit">
          {t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

function RenameForm({ net, onClose }: { net: Network; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const [name, setName] = useState(net.name);
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    try {
      await post('/api/v1/network/update', { uuid: net.uuid, value: { name } });
      notify('success', t('networks.renamed', { name }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => onClose(false)} aria-labelledby="rename-title">
      <ModalHeader title={t('networks.renameTitle', { name: net.name })} labelId="rename-title" />
      <ModalBody>
        <Form id="rename-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('common:name')} fieldId="rename-name" isRequired>
            <TextInput id="rename-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v(['name', 'value.name'])} />
            {fe.help(['name', 'value.name'])}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="rename-form" isLoading={busy} isDisabled={busy || !name.trim()}>
          {t('common:save')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Networks() {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const netConfirm = useNetConfirm();
  const [reload, setReload] = useState(0);
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<Network | null>(null);
  const [deleting, setDeleting] = useState<Network | null>(null);
  const done = (saved: boolean) => saved && setReload((n) => n + 1);
  return (
    <>
      <ListView<Network>
        resource="network"
        ariaLabel={t('tabs.networks')}
        testId="networks-list"
        reloadKey={reload}
        rowName={(r) => r.name}
        searchFields={[
          { field: 'name', label: t('common:name') },
          { field: 'switch_name', label: t('networks.switch') },
        ]}
        toolbar={
          <ToolbarItem>
            <Button variant="primary" onClick={() => setCreating(true)} data-testid="networks-create">
              {t('networks.create')}
            </Button>
          </ToolbarItem>
        }
        columns={[
          { key: 'name', title: t('common:name') },
          { key: 'switch_name', title: t('networks.switch') },
          { key: 'switch_type', title: t('switches.type'), render: (r) => (r.switch_type.toLowerCase() === 'vlan' ? t('switches.vlan') : t('switches.flat')) },
          { key: 'vlan_id', title: t('networks.vlan') },
          { key: 'bridge', title: t('networks.bridge') },
        ]}
        rowActions={(r) => [
          { title: t('common:rename'), onClick: () => setRenaming(r) },
          { title: t('common:delete'), onClick: () => setDeleting(r), isDanger: true },
        ]}
      />
      {creating && (
        <NetworkForm
          onClose={(s) => {
            setCreating(false);
            done(s);
          }}
        />
      )}
      {renaming && (
        <RenameForm
          net={renaming}
          onClose={(s) => {
            setRenaming(null);
            done(s);
          }}
        />
      )}
      {deleting && (
        <ConfirmModal
          title={t('networks.deleteTitle', { name: deleting.name })}
          body={<p>{t('networks.deleteBody', { name: deleting.name, bridge: deleting.bridge })}</p>}
          confirmLabel={t('common:delete')}
          onConfirm={async () => netConfirm(await post('/api/v1/network/delete', { uuid: deleting.uuid }))}
          onClose={(ok) => {
            if (ok) notify('success', t('networks.deleted', { name: deleting.name }));
            setDeleting(null);
            done(ok);
          }}
        />
      )}
    </>
  );
}
