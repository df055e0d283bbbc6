// Bonds per server: the listing (optionally of one server), bond NICs
// (node/add_bond), change a bond (node/edit_bond) and unbond (node/unbond).
// The slaves' addresses move to the bond and back; a change that moves the
// management address opens the confirm window.
import { Button, Checkbox, Form, FormGroup, FormSelect, FormSelectOption, List, ListItem, Modal, ModalBody, ModalFooter, ModalHeader, TextInput, ToolbarItem } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, post } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { useNetConfirm } from './confirm';
import { useNodes } from './Switches';
import { Bond, Node, NodeIp } from './types';

const MODES = [0, 1, 6];

/**
 * The addresses (with their roles) that go on the bond: a bond's own
 * (its NIC record carries the roles and gateway), then those of NICs that
 * are joining it.
 */
function addressesOf(node: Node, names: string[], bond?: Bond) {
  const ips: NodeIp[] = [];
  let gateway: string | null = null;
  const own = bond ? node.nics.find((n) => n.interface === bond.dev) : undefined;
  const add = (list: NodeIp[]) => list.forEach((a) => ips.some((x) => x.ip === a.ip) || ips.push({ ...a }));
  if (own) {
    add(own.ip_list);
    gateway = own.gateway || null;
  } else if (bond) add(bond.ip_list.map((a) => ({ ...a, is_manage: a.ip === node.ip, is_image: a.ip === node.ip })));
  for (const n of node.nics) {
    if (!names.includes(n.interface) || bond?.slaves.includes(n.interface)) continue;
    add(n.ip_list);
    if (n.gateway && !gateway) gateway = n.gateway;
  }
  return { ips, gateway };
}

function BondForm({ bond, nodes, nodeUuid, onClose }: { bond: Bond | null; nodes: Node[]; nodeUuid?: string; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const netConfirm = useNetConfirm();
  const [nodeId, setNodeId] = useState(bond?.node_uuid || nodeUuid || nodes[0]?.uuid || '');
  const [dev, setDev] = useState(bond?.dev || 'bond0');
  const [mode, setMode] = useState(String(bond?.mode ?? 1));
  const [slaves, setSlaves] = useState<string[]>(bond?.slaves || []);
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const node = nodes.find((n) => n.uuid === nodeId);
  const nics = [...(node?.nics || [])].sort((a, b) => a.interface.localeCompare(b.interface)).filter((n) => n.interface !== bond?.dev && !n.interface.startsWith('bond'));
  const { ips, gateway } = node ? addressesOf(node, slaves, bond || undefined) : { ips: [], gateway: null };
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!node) return;
    setBusy(true);
    fe.clear();
    const body = {
      ipaddr: node.ip,
      ...(bond ? { bond_uuid: bond.uuid } : { node_uuid: node.uuid }),
      slaves: slaves.map((name) => ({ nic_name: name, nic_uuid: node.nics.find((n) => n.interface === name)?.uuid || '' })),
      ip_list: ips.map((a) => ({ ip: a.ip, netmask: a.netmask, is_manage: !!a.is_manage, is_image: !!a.is_image, ...(gateway && a.is_manage ? { gateway } : {}) })),
      bond_info: { dev, mode: Number(mode), slaves },
    };
    try {
      netConfirm(await post(bond ? '/api/v1/node/edit_bond' : '/api/v1/node/add_bond', body));
      notify('success', t('bonds.saved', { name: dev }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="medium" isOpen onClose={() => onClose(false)} aria-labelledby="bond-form-title" data-testid="bond-form">
      <ModalHeader title={bond ? t('bonds.editTitle', { name: bond.dev }) : t('bonds.createTitle')} labelId="bond-form-title" />
      <ModalBody>
        <Form id="bond-form" onSubmit={submit} isHorizontal>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('bonds.server')} fieldId="bond-node" isRequired>
            <FormSelect id="bond-node" value={nodeId} onChange={(_e, v) => { setNodeId(v); setSlaves([]); }} isDisabled={!!bond || !!nodeUuid} validated={fe.v(['node_uuid', 'ipaddr'])}>
              {nodes.map((n) => (
                <FormSelectOption key={n.uuid} value={n.uuid} label={`${n.name} (${n.ip})`} />
              ))}
            </FormSelect>
            {fe.help(['node_uuid', 'ipaddr'])}
          </FormGroup>
          <FormGroup label={t('bonds.dev')} fieldId="bond-dev" isRequired>
            <TextInput id="bond-dev" value={dev} onChange={(_e, v) => setDev(v)} validated={fe.v('bond_info.dev')} />
            {fe.help('bond_info.dev')}
          </FormGroup>
          <FormGroup label={t('bonds.mode')} fieldId="bond-mode" isRequired>
            <FormSelect id="bond-mode" value={mode} onChange={(_e, v) => setMode(v)} validated={fe.v('bond_info.mode')}>
              {MODES.map((m) => (
                <FormSelectOption key={m} value={String(m)} label={t(`bonds.mode${m}`)} />
              ))}
            </FormSelect>
            {fe.help('bond_info.mode')}
          </FormGroup>
          <FormGroup label={t('bonds.slaves')} fieldId="bond-slaves" isRequired role="group">
            {nics.map((n) => (
              <Checkbox
                key={n.uuid}
                id={`bond-slave-${n.interface}`}
                label={n.ip_list.length ? `${n.interface} (${n.ip_list.map((a) => a.ip).join(', ')})` : n.interface}
                isChecked={slaves.includes(n.interface)}
                onChange={(_e, on) => setSlaves(on ? [...slaves, n.interface] : slaves.filter((x) => x !== n.interface))}
              />
            ))}
            {fe.help(['slaves', 'bond_info.slaves'])}
          </FormGroup>
          <FormGroup label={t('bonds.addresses')} fieldId="bond-addresses">
            {ips.length ? (
              <List>
                {ips.map((a) => (
                  <ListItem key={a.ip}>
                    {a.ip} / {a.netmask}
                    {a.is_manage ? ` · ${t('bonds.manage')}` : ''}
                    {a.is_image ? ` · ${t('bonds.image')}` : ''}
                  </ListItem>
                ))}
              </List>
            ) : (
              <span className="vdi-muted">{t('bonds.noAddresses')}</span>
            )}
            <div className="vdi-muted">{t('bonds.addressesHelp')}</div>
            {fe.help('ip_list')}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="bond-form" isLoading={busy} isDisabled={busy || slaves.length === 0 || !dev.trim()} data-testid="bond-form-submit">
          {bond ? t('common:save') : t('bonds.create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** The bonds of every server, or of one (`nodeUuid`). */
export function Bonds({ nodeUuid }: { nodeUuid?: string }) {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const netConfirm = useNetConfirm();
  const nodes = useNodes();
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<Bond | 'new' | null>(null);
  const [unbonding, setUnbonding] = useState<Bond | null>(null);
  const nodeOf = (u: string) => nodes.data?.find((n) => n.uuid === u);
  const changed = () => {
    setReload((n) => n + 1);
    nodes.reload();
  };
  const unbond = async (b: Bond) => {
    const node = (await listAll<Node>('node', { uuid: b.node_uuid }))[0];
    if (!node) return;
    const { ips, gateway } = addressesOf(node, [], b);
    const slaves = b.slaves.map((name, i) => ({
      nic_name: name,
      nic_uuid: node.nics.find((n) => n.interface === name)?.uuid || '',
      ip_list: i === 0 ? ips.map((a) => ({ ip: a.ip, netmask: a.netmask, is_manage: !!a.is_manage, is_image: !!a.is_image, ...(gateway && a.is_manage ? { gateway } : {}) })) : [],
    }));
    netConfirm(await post('/api/v1/node/unbond', { ipaddr: node.ip, bond_uuid: b.uuid, bond_name: b.dev, slaves }));
  };
  return (
    <>
      <ErrorAlert error={nodes.error} />
      <ListView<Bond>
        resource="bond"
        ariaLabel={t('tabs.bonds')}
        testId="bonds-list"
        reloadKey={reload}
        rowName={(r) => r.dev}
        filters={{ node_uuid: nodeUuid }}
        toolbar={
          <ToolbarItem>
            <Button variant="primary" onClick={() => setEditing('new')} isDisabled={!nodes.data} data-testid="bonds-create">
              {t('bonds.create')}
            </Button>
          </ToolbarItem>
        }
        columns={[
          { key: 'dev', title: t('bonds.dev') },
          ...(nodeUuid ? [] : [{ key: 'node_uuid', title: t('bonds.server'), render: (r: Bond) => nodeOf(r.node_uuid)?.name || r.node_uuid.slice(0, 8) }]),
          { key: 'mode', title: t('bonds.mode'), render: (r) => t(`bonds.mode${r.mode}`, { defaultValue: String(r.mode) }) },
          { key: 'slaves', title: t('bonds.slaves') },
          { key: 'ip_list', title: t('bonds.addresses'), render: (r) => r.ip_list.map((a) => `${a.ip}/${a.netmask}`).join(', ') || '—' },
        ]}
        rowActions={(r) => [
          { title: t('common:edit'), onClick: () => setEditing(r), isDisabled: !nodes.data },
          { title: t('bonds.unbond'), onClick: () => setUnbonding(r), isDanger: true, isDisabled: !nodes.data },
        ]}
      />
      {editing && nodes.data && (
        <BondForm
          bond={editing === 'new' ? null : editing}
          nodes={nodes.data}
          nodeUuid={nodeUuid}
          onClose={(s) => {
            setEditing(null);
            if (s) changed();
          }}
        />
      )}
      {unbonding && (
        <ConfirmModal
          title={t('bonds.unbondTitle', { name: unbonding.dev })}
          body={<p>{t('bonds.unbondBody', { name: unbonding.dev, slaves: unbonding.slaves.join(', '), first: unbonding.slaves[0] || '' })}</p>}
          confirmLabel={t('bonds.unbond')}
          onConfirm={() => unbond(unbonding)}
          onClose={(ok) => {
            if (ok) {
              notify('success', t('bonds.unbonded', { name: unbonding.dev }));
              changed();
            }
            setUnbonding(null);
          }}
        />
      )}
    </>
  );
}
