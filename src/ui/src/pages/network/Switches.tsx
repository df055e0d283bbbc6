// Virtual switches: the listing with each switch's uplink per server, a
// create/edit form with a NIC picker per server, delete with confirmation.
import { Button, Form, FormGroup, FormSelect, FormSelectOption, Modal, ModalBody, ModalFooter, ModalHeader, TextInput, ToolbarItem } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtNumber } from '../../i18n';
import { useNetConfirm } from './confirm';
import { Node, VSwitch } from './types';

export function useNodes() {
  return useLoad(() => listAll<Node>('node'), []);
}

function SwitchForm({ sw, nodes, onClose }: { sw: VSwitch | null; nodes: Node[]; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const netConfirm = useNetConfirm();
  const [name, setName] = useState(sw?.name || '');
  const [type, setType] = useState(sw?.type?.toLowerCase() || 'flat');
  const [desc, setDesc] = useState(sw?.desc || '');
  const [uplinks, setUplinks] = useState<Record<string, string>>(() => Object.fromEntries((sw?.uplinks || []).map((u) => [u.node_uuid, u.nic_uuid])));
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    const ups = Object.entries(uplinks)
      .filter(([, nic]) => nic)
      .map(([node_uuid, nic_uuid]) => ({ node_uuid, nic_uuid }));
    try {
      const reply = sw
        ? await post('/api/v1/vswitch/update', { uuid: sw.uuid, value: { name, type, desc, uplinks: ups } })
        : await post('/api/v1/vswitch/create', { name, type, desc, uplinks: ups });
      netConfirm(reply);
      notify('success', t('switches.saved', { name }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="medium" isOpen onClose={() => onClose(false)} aria-labelledby="switch-form-title" data-testid="switch-form">
      <ModalHeader title={sw ? t('switches.editTitle', { name: sw.name }) : t('switches.createTitle')} labelId="switch-form-title" />
      <ModalBody>
        <Form id="switch-form" onSubmit={submit} isHorizontal>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('common:name')} fieldId="switch-name" isRequired>
            <TextInput id="switch-name" data-testid="switch-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('name')} isRequired />
            {fe.help('name')}
          </FormGroup>
          <FormGroup label={t('switches.type')} fieldId="switch-type" isRequired>
            <FormSelect id="switch-type" value={type} onChange={(_e, v) => setType(v)} validated={fe.v('type')}>
              <FormSelectOption value="flat" label={t('switches.flat')} />
              <FormSelectOption value="vlan" label={t('switches.vlan')} />
            </FormSelect>
            {fe.help('type')}
          </FormGroup>
          <FormGroup label={t('common:description')} fieldId="switch-desc">
            <TextInput id="switch-desc" value={desc} onChange={(_e, v) => setDesc(v)} validated={fe.v('desc')} />
          </FormGroup>
          {nodes.map((n, i) => (
            <FormGroup key={n.uuid} label={t('switches.uplinkOn', { node: n.name })} fieldId={`switch-uplink-${i}`}>
              <FormSelect
                id={`switch-uplink-${i}`}
                value={uplinks[n.uuid] || ''}
                onChange={(_e, v) => setUplinks({ ...uplinks, [n.uuid]: v })}
                validated={fe.v('uplinks')}
              >
                <FormSelectOption value="" label={t('switches.noUplink')} />
                {[...n.nics].sort((a, b) => a.interface.localeCompare(b.interface)).map((nic) => (
                  <FormSelectOption key={nic.uuid} value={nic.uuid} label={nic.ip_list.length ? `${nic.interface} (${nic.ip_list.map((a) => a.ip).join(', ')})` : nic.interface} />
                ))}
              </FormSelect>
              {i === 0 && fe.help('uplinks')}
            </FormGroup>
          ))}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="switch-form" isLoading={busy} isDisabled={busy || !name.trim()} data-testid="switch-form-submit">
          {sw ? t('common:save') : t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function Switches() {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const netConfirm = useNetConfirm();
  const nodes = useNodes();
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<VSwitch | 'new' | null>(null);
  const [deleting, setDeleting] = useState<VSwitch | null>(null);
  const nodeName = (u: string) => nodes.data?.find((n) => n.uuid === u)?.name || u.slice(0, 8);
  return (
    <>
      <ErrorAlert error={nodes.error} />
      <ListView<VSwitch>
        resource="vswitch"
        ariaLabel={t('tabs.switches')}
        testId="switches-list"
        reloadKey={reload}
        rowName={(r) => r.name}
        searchFields={[{ field: 'name', label: t('common:name') }]}
        toolbar={
          <ToolbarItem>
            <Button variant="primary" onClick={() => setEditing('new')} isDisabled={!nodes.data} data-testid="switches-create">
              {t('switches.create')}
            </Button>
          </ToolbarItem>
        }
        columns={[
          { key: 'name', title: t('common:name') },
          { key: 'type', title: t('switches.type'), render: (r) => (r.type.toLowerCase() === 'vlan' ? t('switches.vlan') : t('switches.flat')) },
          { key: 'uplinks', title: t('switches.uplinks'), render: (r) => (r.uplinks.length ? r.uplinks.map((u) => `${nodeName(u.node_uuid)}: ${u.interface || u.nic_uuid.slice(0, 8)}`).join(', ') : t('switches.noUplinks')) },
          { key: 'network_count', title: t('switches.networks'), render: (r) => fmtNumber(r.network_count) },
          { key: 'desc', title: t('common:description') },
        ]}
        rowActions={(r) => [
          { title: t('common:edit'), onClick: () => setEditing(r), isDisabled: !nodes.data },
          { title: t('common:delete'), onClick: () => setDeleting(r), isDanger: true },
        ]}
      />
      {editing && nodes.data && (
        <SwitchForm
          sw={editing === 'new' ? null : editing}
          nodes={nodes.data}
          onClose={(saved) => {
            setEditing(null);
            if (saved) setReload((n) => n + 1);
          }}
        />
      )}
      {deleting && (
        <ConfirmModal
          title={t('switches.deleteTitle', { name: deleting.name })}
          body={<p>{deleting.network_count > 0 ? t('switches.deleteHasNetworks', { name: deleting.name, count: deleting.network_count }) : t('switches.deleteBody', { name: deleting.name })}</p>}
          confirmLabel={t('common:delete')}
          onConfirm={async () => netConfirm(await post('/api/v1/vswitch/delete', { uuid: deleting.uuid }))}
          onClose={(ok) => {
            if (ok) {
              notify('success', t('switches.deleted', { name: deleting.name }));
              setReload((n) => n + 1);
            }
            setDeleting(null);
          }}
        />
      )}
    </>
  );
}
