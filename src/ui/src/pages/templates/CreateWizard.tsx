// The create wizard: source (base image or ISO install), name and OS,
// hardware, network with the suggested address, resource pool, review;
// the create runs as a task whose progress shows in the last step.
import { Alert, Button, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Form, FormGroup, FormSelect, FormSelectOption, Modal, NumberInput, Radio, TextInput, Wizard, WizardHeader, WizardStep } from '@patternfly/react-core';
import TrashIcon from '@patternfly/react-icons/dist/esm/icons/trash-icon';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, Task } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useTasks } from '../../components/tasks';
import { TaskProgress } from '../../components/TaskDrawer';
import { fmtGB } from '../../i18n';
import { OS_TYPES } from '../images/os';
import { suggestIp } from './model';

interface Named {
  uuid: string;
  name: string;
  os_type?: string;
  network_uuid?: string;
  default?: boolean;
  start_ip?: string;
  end_ip?: string;
  virtual_size_gb?: number;
}
const tid = (id: string) => ({ 'data-testid': id }) as object;

export function CreateWizard({ onClose }: { onClose: (uuid?: string) => void }) {
  const { t } = useTranslation('templates');
  const { runTask } = useTasks();
  const fe = useFieldErrors();
  const refs = useLoad(
    async () => ({
      images: await listAll<Named>('base_image'),
      isos: await listAll<Named>('iso'),
      networks: await listAll<Named>('network'),
      subnets: await listAll<Named>('subnet'),
      pools: await listAll<Named>('resource_pool'),
    }),
    [],
  );
  const d = refs.data;
  const [source, setSource] = useState<'image' | 'iso'>('image');
  const [image, setImage] = useState('');
  const [iso, setIso] = useState('');
  const [name, setName] = useState('');
  const [os, setOs] = useState('windows_10');
  const [desc, setDesc] = useState('');
  const [vcpu, setVcpu] = useState(2);
  const [ram, setRam] = useState(4);
  const [sysDisk, setSysDisk] = useState(50);
  const [dataDisks, setDataDisks] = useState<number[]>([]);
  const [network, setNetwork] = useState('');
  const [subnet, setSubnet] = useState('');
  const [ip, setIp] = useState('');
  const [pool, setPool] = useState('');
  const [busy, setBusy] = useState(false);
  const [task, setTask] = useState<Task | null>(null);

  useEffect(() => {
    if (!d) return;
    setImage((x) => x || d.images[0]?.uuid || '');
    setIso((x) => x || d.isos[0]?.uuid || '');
    setNetwork((x) => x || d.networks[0]?.uuid || '');
    setPool((x) => x || d.pools.find((p) => p.default)?.uuid || d.pools[0]?.uuid || '');
  }, [d]);
  const subnets = (d?.subnets || []).filter((s) => s.network_uuid === network);
  useEffect(() => {
    if (d) setSubnet(subnets[0]?.uuid || '');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [network, d]);
  useEffect(() => {
    setIp('');
    if (!subnet) return;
    const ctl = new AbortController();
    suggestIp(subnet, ctl.signal).then(setIp, () => {});
    return () => ctl.abort();
  }, [subnet]);
  useEffect(() => {
    const img = d?.images.find((i) => i.uuid === image);
    if (source === 'image' && img?.os_type) setOs(img.os_type);
  }, [image, source, d]);

  const nameOf = (list: Named[] | undefined, u: string) => list?.find((x) => x.uuid === u)?.name || '—';
  const submit = async () => {
    fe.clear();
    setBusy(true);
    const body: Record<string, unknown> = {
      name: name.trim(),
      desc,
      os_type: os,
      pool_uuid: pool,
      network_uuid: network,
      subnet_uuid: subnet,
      bind_ip: subnet ? ip.trim() : '',
      vcpu,
      ram,
      data_disks: dataDisks.map((size, i) => ({ inx: i + 1, size })),
      system_disk: { image_id: source === 'image' ? image : '', size: sysDisk },
      power_on: false,
    };
    if (source === 'iso') body.iso = iso;
    try {
      const done = await runTask(t('create.task', { name: name.trim() }), 'POST', '/api/v1/template/create', body, setTask);
      const uuid = (done.result as { uuid?: string } | null)?.uuid;
      onClose(uuid);
    } catch (e) {
      fe.fail(e);
      setBusy(false);
    }
  };

  const sourceOk = source === 'image' ? !!image : !!iso;
  return (
    <Modal isOpen variant="large" onEscapePress={() => onClose()} aria-label={t('create.title')} data-testid="template-wizard">
      <Wizard
        height={560}
        onClose={() => onClose()}
        onSave={submit}
        header={<WizardHeader title={t('create.title')} description={t('create.description')} onClose={() => onClose()} closeButtonAriaLabel={t('common:close')} />}
      >
        <WizardStep name={t('create.stepSource')} id="tpl-source" footer={{ isNextDisabled: !sourceOk, nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), nextButtonProps: tid('template-wizard-next') }}>
          <Form>
            <FormGroup role="radiogroup" fieldId="tpl-source" label={t('create.source')} isStack>
              <Radio id="tpl-src-image" name="tpl-src" label={t('create.fromImage')} description={t('create.fromImageHint')} isChecked={source === 'image'} onChange={() => setSource('image')} {...tid('template-wizard-source-image')} />
              <Radio id="tpl-src-iso" name="tpl-src" label={t('create.fromIso')} description={t('create.fromIsoHint')} isChecked={source === 'iso'} onChange={() => setSource('iso')} {...tid('template-wizard-source-iso')} />
            </FormGroup>
            {source === 'image' ? (
              <FormGroup label={t('create.image')} fieldId="tpl-image" isRequired>
                <FormSelect id="tpl-image" data-testid="template-wizard-image" value={image} onChange={(_e, v) => setImage(v)} validated={fe.v('system_disk.image_id')}>
                  {(d?.images || []).map((i) => (
                    <FormSelectOption key={i.uuid} value={i.uuid} label={`${i.name} (${fmtGB(i.virtual_size_gb)})`} />
                  ))}
                </FormSelect>
                {fe.help('system_disk.image_id')}
              </FormGroup>
            ) : (
              <FormGroup label={t('create.iso')} fieldId="tpl-iso" isRequired>
                <FormSelect id="tpl-iso" data-testid="template-wizard-iso" value={iso} onChange={(_e, v) => setIso(v)} validated={fe.v('iso')}>
                  {(d?.isos || []).map((i) => (
                    <FormSelectOption key={i.uuid} value={i.uuid} label={i.name} />
                  ))}
                </FormSelect>
                {fe.help('iso')}
              </FormGroup>
            )}
            {d && !sourceOk && <Alert isInline variant="info" title={source === 'image' ? t('create.noImages') : t('create.noIsos')} />}
          </Form>
        </WizardStep>
        <WizardStep name={t('create.stepName')} id="tpl-name" footer={{ isNextDisabled: !name.trim(), nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), nextButtonProps: tid('template-wizard-next') }}>
          <Form>
            <FormGroup label={t('common:name')} fieldId="tpl-name-input" isRequired>
              <TextInput id="tpl-name-input" data-testid="template-wizard-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('name')} />
              {fe.help('name')}
            </FormGroup>
            <FormGroup label={t('col.os')} fieldId="tpl-os">
              <FormSelect id="tpl-os" data-testid="template-wizard-os" value={os} onChange={(_e, v) => setOs(v)}>
                {OS_TYPES.map((o) => (
                  <FormSelectOption key={o} value={o} label={t(`images:os.${o}`)} />
                ))}
              </FormSelect>
            </FormGroup>
            <FormGroup label={t('common:description')} fieldId="tpl-desc">
              <TextInput id="tpl-desc" data-testid="template-wizard-desc" value={desc} onChange={(_e, v) => setDesc(v)} />
            </FormGroup>
          </Form>
        </WizardStep>
        <WizardStep name={t('create.stepHardware')} id="tpl-hw" footer={{ nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), nextButtonProps: tid('template-wizard-next') }}>
          <Form>
            <FormGroup label={t('hw.vcpu')} fieldId="tpl-vcpu">
              <NumberInput id="tpl-vcpu" data-testid="template-wizard-vcpu" value={vcpu} min={1} max={128} onMinus={() => setVcpu(Math.max(1, vcpu - 1))} onPlus={() => setVcpu(vcpu + 1)} onChange={(e) => setVcpu(Number((e.target as HTMLInputElement).value) || 1)} inputAria-label={t('hw.vcpu')} minusBtnAriaLabel={t('hw.less')} plusBtnAriaLabel={t('hw.more')} validated={fe.v('vcpu')} />
              {fe.help('vcpu')}
            </FormGroup>
            <FormGroup label={t('hw.ram')} fieldId="tpl-ram">
              <NumberInput id="tpl-ram" data-testid="template-wizard-ram" value={ram} min={1} max={1024} unit={t('hw.gb')} onMinus={() => setRam(Math.max(1, ram - 1))} onPlus={() => setRam(ram + 1)} onChange={(e) => setRam(Number((e.target as HTMLInputElement).value) || 1)} inputAria-label={t('hw.ram')} minusBtnAriaLabel={t('hw.less')} plusBtnAriaLabel={t('hw.more')} validated={fe.v('ram')} />
              {fe.help('ram')}
            </FormGroup>
            <FormGroup label={t('hw.systemDisk')} fieldId="tpl-sysdisk">
              <NumberInput id="tpl-sysdisk" data-testid="template-wizard-sysdisk" value={sysDisk} min={1} max={16384} unit={t('hw.gb')} onMinus={() => setSysDisk(Math.max(1, sysDisk - 10))} onPlus={() => setSysDisk(sysDisk + 10)} onChange={(e) => setSysDisk(Number((e.target as HTMLInputElement).value) || 1)} inputAria-label={t('hw.systemDisk')} minusBtnAriaLabel={t('hw.less')} plusBtnAriaLabel={t('hw.more')} validated={fe.v('system_disk.size')} />
              {fe.help('system_disk.size')}
            </FormGroup>
            {dataDisks.map((size, i) => (
              <FormGroup key={i} label={t('hw.dataDiskN', { n: i + 1 })} fieldId={`tpl-data-${i}`}>
                <NumberInput id={`tpl-data-${i}`} data-testid={`template-wizard-data-${i}`} value={size} min={1} max={16384} unit={t('hw.gb')} onMinus={() => setDataDisks(dataDisks.map((x, j) => (j === i ? Math.max(1, x - 10) : x)))} onPlus={() => setDataDisks(dataDisks.map((x, j) => (j === i ? x + 10 : x)))} onChange={(e) => setDataDisks(dataDisks.map((x, j) => (j === i ? Number((e.target as HTMLInputElement).value) || 1 : x)))} inputAria-label={t('hw.dataDiskN', { n: i + 1 })} minusBtnAriaLabel={t('hw.less')} plusBtnAriaLabel={t('hw.more')} validated={fe.v(`data_disks[${i}]`)} />
                <Button variant="plain" icon={<TrashIcon />} aria-label={t('hw.removeDisk', { n: i + 1 })} onClick={() => setDataDisks(dataDisks.filter((_x, j) => j !== i))} />
              </FormGroup>
            ))}
            <Button variant="link" isInline onClick={() => setDataDisks([...dataDisks, 20])} data-testid="template-wizard-add-disk">
              {t('hw.addDataDisk')}
            </Button>
          </Form>
        </WizardStep>
        <WizardStep name={t('create.stepNetwork')} id="tpl-net" footer={{ nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), nextButtonProps: tid('template-wizard-next') }}>
          <Form>
            <FormGroup label={t('col.network')} fieldId="tpl-network">
              <FormSelect id="tpl-network" data-testid="template-wizard-network" value={network} onChange={(_e, v) => setNetwork(v)} validated={fe.v('network_uuid')}>
                {(d?.networks || []).map((n) => (
                  <FormSelectOption key={n.uuid} value={n.uuid} label={n.name} />
                ))}
              </FormSelect>
              {fe.help('network_uuid')}
            </FormGroup>
            <FormGroup label={t('col.subnet')} fieldId="tpl-subnet">
              <FormSelect id="tpl-subnet" data-testid="template-wizard-subnet" value={subnet} onChange={(_e, v) => setSubnet(v)} validated={fe.v('subnet_uuid')}>
                <FormSelectOption value="" label={t('create.dhcp')} />
                {subnets.map((s) => (
                  <FormSelectOption key={s.uuid} value={s.uuid} label={`${s.name} (${s.start_ip} – ${s.end_ip})`} />
                ))}
              </FormSelect>
              {fe.help('subnet_uuid')}
            </FormGroup>
            {subnet && (
              <FormGroup label={t('col.ip')} fieldId="tpl-ip">
                <TextInput id="tpl-ip" data-testid="template-wizard-ip" value={ip} onChange={(_e, v) => setIp(v)} validated={fe.v('bind_ip')} />
                {fe.help('bind_ip')}
              </FormGroup>
            )}
          </Form>
        </WizardStep>
        <WizardStep name={t('create.stepPool')} id="tpl-pool" footer={{ nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), nextButtonProps: tid('template-wizard-next') }}>
          <Form>
            <FormGroup label={t('col.pool')} fieldId="tpl-pool-sel">
              <FormSelect id="tpl-pool-sel" data-testid="template-wizard-pool" value={pool} onChange={(_e, v) => setPool(v)} validated={fe.v('pool_uuid')}>
                {(d?.pools || []).map((p) => (
                  <FormSelectOption key={p.uuid} value={p.uuid} label={p.name} />
                ))}
              </FormSelect>
              {fe.help('pool_uuid')}
            </FormGroup>
            <p className="vdi-muted">{t('create.poolHint')}</p>
          </Form>
        </WizardStep>
        <WizardStep
          name={t('create.stepReview')}
          id="tpl-review"
          footer={{ nextButtonText: t('create.submit'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), isNextDisabled: busy || !sourceOk || !name.trim(), nextButtonProps: { ...tid('template-wizard-submit'), isLoading: busy } }}
        >
          <DescriptionList isHorizontal isCompact>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('create.source')}</DescriptionListTerm>
              <DescriptionListDescription>{source === 'image' ? t('create.reviewImage', { name: nameOf(d?.images, image) }) : t('create.reviewIso', { name: nameOf(d?.isos, iso) })}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('common:name')}</DescriptionListTerm>
              <DescriptionListDescription>{name}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('col.os')}</DescriptionListTerm>
              <DescriptionListDescription>{t(`images:os.${os}`)}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('col.hardware')}</DescriptionListTerm>
              <DescriptionListDescription>{t('hardwareShort', { vcpu, ram: fmtGB(ram), disks: [sysDisk, ...dataDisks].map(fmtGB).join(' + ') })}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('col.network')}</DescriptionListTerm>
              <DescriptionListDescription>{`${nameOf(d?.networks, network)} / ${subnet ? nameOf(d?.subnets, subnet) : t('create.dhcp')}${subnet ? ` · ${ip || t('create.autoIp')}` : ''}`}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('col.pool')}</DescriptionListTerm>
              <DescriptionListDescription>{nameOf(d?.pools, pool)}</DescriptionListDescription>
            </DescriptionListGroup>
          </DescriptionList>
          {task && <TaskProgress task={task} />}
          <ErrorAlert error={fe.error} />
        </WizardStep>
      </Wizard>
    </Modal>
  );
}
