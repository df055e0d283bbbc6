// The classroom form (create and edit in one modal): name, description,
// the terminals' address range, and optionally the network and subnet the
// classroom's desktops take their addresses from.
import { Button, Form, FormGroup, FormHelperText, FormSelect, FormSelectOption, Grid, GridItem, HelperText, HelperTextItem, Modal, ModalBody, ModalFooter, ModalHeader, TextArea, TextInput } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, listAll, post } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { Network, Subnet } from '../network/types';
import { Classroom } from './model';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipNum = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);

export function ClassroomForm({ room, onClose }: { room: Classroom | null; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('classrooms');
  const notify = useNotify();
  const [name, setName] = useState(room?.name || '');
  const [desc, setDesc] = useState(room?.desc || '');
  const [start, setStart] = useState(room?.start_ip || '');
  const [end, setEnd] = useState(room?.end_ip || '');
  const [network, setNetwork] = useState(room?.network_uuid || '');
  const [subnet, setSubnet] = useState(room?.subnet_uuid || '');
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const nets = useLoad(async () => ({ networks: await listAll<Network>('network'), subnets: await listAll<Subnet>('subnet') }), []);
  const subnets = (nets.data?.subnets || []).filter((s) => s.network_uuid === network);

  // Checked here only to say so early; the service decides.
  const startBad = start.trim() !== '' && !IPV4.test(start.trim());
  const endBad = end.trim() !== '' && !IPV4.test(end.trim());
  const order = !startBad && !endBad && start.trim() && end.trim() && ipNum(end.trim()) < ipNum(start.trim());
  const seats = !startBad && !endBad && !order && start.trim() && end.trim() ? ipNum(end.trim()) - ipNum(start.trim()) + 1 : null;

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    const value = { name: name.trim(), desc, start_ip: start.trim(), end_ip: end.trim(), network_uuid: network, subnet_uuid: network ? subnet : '' };
    try {
      if (room) {
        await post('/api/v1/group/update', { uuid: room.uuid, value });
        notify('success', t('saved', { name: value.name }));
      } else {
        await post('/api/v1/group/create', { ...value, group_type: 1 });
        notify('success', t('created', { name: value.name }));
      }
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  const local = (bad: boolean, msg: string) =>
    bad ? (
      <FormHelperText>
        <HelperText>
          <HelperTextItem variant="error">{msg}</HelperTextItem>
        </HelperText>
      </FormHelperText>
    ) : null;
  // An overlap with another classroom names that classroom, not a field: it is the range's error.
  const overlap = fe.error instanceof ApiError && fe.error.code === 20703 ? fe.error.message : null;
  const v = (f: string, bad: boolean) => (bad || overlap ? 'error' : fe.v(f));
  return (
    <Modal variant="medium" isOpen onClose={() => onClose(false)} aria-labelledby="classroom-form-title" data-testid="classroom-form">
      <ModalHeader title={room ? t('editTitle', { name: room.name }) : t('createTitle')} labelId="classroom-form-title" />
      <ModalBody>
        <Form id="classroom-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('common:name')} fieldId="classroom-form-name" isRequired>
            <TextInput id="classroom-form-name" data-testid="classroom-form-name" value={name} onChange={(_e, x) => setName(x)} validated={fe.v('name')} isRequired />
            {fe.help('name')}
          </FormGroup>
          <FormGroup label={t('common:description')} fieldId="classroom-form-description">
            <TextArea id="classroom-form-description" data-testid="classroom-form-description" value={desc} onChange={(_e, x) => setDesc(x)} validated={fe.v('desc')} resizeOrientation="vertical" />
            {fe.help('desc')}
          </FormGroup>
          <Grid hasGutter>
            <GridItem span={6}>
              <FormGroup label={t('startIp')} fieldId="classroom-form-start-ip" isRequired>
                <TextInput id="classroom-form-start-ip" data-testid="classroom-form-start-ip" value={start} onChange={(_e, x) => setStart(x)} validated={v('start_ip', startBad)} placeholder={t('ipExample', { ip: '192.168.10.11' })} isRequired />
                {fe.help('start_ip') || local(startBad, t('notAnAddress')) || local(!!overlap, overlap || '')}
              </FormGroup>
            </GridItem>
            <GridItem span={6}>
              <FormGroup label={t('endIp')} fieldId="classroom-form-end-ip" isRequired>
                <TextInput id="classroom-form-end-ip" data-testid="classroom-form-end-ip" value={end} onChange={(_e, x) => setEnd(x)} validated={v('end_ip', endBad || !!order)} placeholder={t('ipExample', { ip: '192.168.10.60' })} isRequired />
                {fe.help('end_ip') || local(endBad, t('notAnAddress')) || local(!!order, t('endBelowStart')) || local(!!overlap, overlap || '')}
              </FormGroup>
            </GridItem>
          </Grid>
          <p className="vdi-muted">{seats !== null ? t('rangeSeats', { count: seats }) : t('rangeHelp')}</p>
          <FormGroup label={t('network')} fieldId="classroom-form-network">
            <FormSelect id="classroom-form-network" data-testid="classroom-form-network" value={network} onChange={(_e, x) => { setNetwork(x); setSubnet(''); }} validated={fe.v('network_uuid')}>
              <FormSelectOption value="" label={t('networkFromTemplate')} />
              {(nets.data?.networks || []).map((n) => (
                <FormSelectOption key={n.uuid} value={n.uuid} label={n.name} />
              ))}
            </FormSelect>
            {fe.help('network_uuid')}
          </FormGroup>
          {network && (
            <FormGroup label={t('subnet')} fieldId="classroom-form-subnet">
              <FormSelect id="classroom-form-subnet" data-testid="classroom-form-subnet" value={subnet} onChange={(_e, x) => setSubnet(x)} validated={fe.v('subnet_uuid')}>
                <FormSelectOption value="" label={t('noSubnet')} />
                {subnets.map((s) => (
                  <FormSelectOption key={s.uuid} value={s.uuid} label={`${s.name} (${s.start_ip} – ${s.end_ip})`} />
                ))}
              </FormSelect>
              {fe.help('subnet_uuid')}
            </FormGroup>
          )}
          <ErrorAlert error={nets.error} />
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="classroom-form" isLoading={busy} isDisabled={busy || !name.trim() || !start.trim() || !end.trim()} data-testid="classroom-form-submit">
          {room ? t('common:save') : t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
