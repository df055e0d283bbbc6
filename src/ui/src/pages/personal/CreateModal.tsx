// The create form of a personal desktop group: name, template, random or
// static, the user groups, how many desktops and how they are named, their
// hardware, network and placement on the servers of the pool. Runs the
// create as a task and shows its progress; a refusal highlights its field.
import {
  Alert,
  Button,
  Checkbox,
  ExpandableSection,
  Form,
  FormGroup,
  FormHelperText,
  FormSection,
  FormSelect,
  FormSelectOption,
  Grid,
  GridItem,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Progress,
  Radio,
  TextInput,
} from '@patternfly/react-core';
import { FormEvent, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, Task } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { loadUserGroups, NodeRow, PERSONAL, prefixFrom, TEMPLATES, TemplateRow } from './model';

interface Net {
  uuid: string;
  name: string;
}
interface Subnet {
  uuid: string;
  name: string;
  network_uuid: string;
  start_ip: string;
  end_ip: string;
}

const int = (s: string) => (s.trim() === '' ? undefined : Number(s));

export function CreateModal({ onClose }: { onClose: (created: boolean) => void }) {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const { runTask } = useTasks();
  const fe = useFieldErrors();
  const templates = useLoad(() => listAll<TemplateRow>(TEMPLATES), []);
  const userGroups = useLoad(() => loadUserGroups(), []);
  const pools = useLoad(() => listAll<{ uuid: string; name: string }>('resource_pool'), []);
  const networks = useLoad(() => listAll<Net>('network'), []);
  const subnets = useLoad(() => listAll<Subnet>('subnet'), []);

  const [name, setName] = useState('');
  const [template, setTemplate] = useState('');
  const [type, setType] = useState<1 | 2>(1);
  const [groups, setGroups] = useState<string[]>([]);
  const [count, setCount] = useState('1');
  const [prefix, setPrefix] = useState('');
  const [prefixTouched, setPrefixTouched] = useState(false);
  const [postfix, setPostfix] = useState('2');
  const [postfixStart, setPostfixStart] = useState('1');
  const [vcpu, setVcpu] = useState('');
  const [ram, setRam] = useState('');
  const [sysRestore, setSysRestore] = useState(false);
  const [dataRestore, setDataRestore] = useState('0');
  const [pool, setPool] = useState('');
  const [network, setNetwork] = useState('');
  const [subnet, setSubnet] = useState('');
  const [startIp, setStartIp] = useState('');
  const [manual, setManual] = useState(false);
  const [perNode, setPerNode] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<Task | null>(null);

  const usable = useMemo(() => (templates.data || []).filter((x) => x.version > 0), [templates.data]);
  const tpl = usable.find((x) => x.uuid === template);
  const poolUuid = pool || tpl?.pool_uuid || '';
  const nodes = useLoad(
    () => (poolUuid ? listAll<NodeRow>('node', { pool_uuid: poolUuid }) : Promise.resolve([])),
    [poolUuid],
  );
  const compute = (nodes.data || []).filter((n) => n.is_compute);
  const placed = compute.reduce((s, n) => s + (Number(perNode[n.ip]) || 0), 0);

  useEffect(() => {
    if (!prefixTouched) setPrefix(prefixFrom(name));
  }, [name, prefixTouched]);
  useEffect(() => {
    if (tpl) {
      setVcpu(String(tpl.vcpu));
      setRam(String(tpl.ram));
    }
  }, [tpl?.uuid]); // eslint-disable-line react-hooks/exhaustive-deps

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    fe.clear();
    setBusy(true);
    setProgress(null);
    const body: Record<string, unknown> = {
      name: name.trim(),
      template_uuid: template,
      desktop_type: type,
      groups,
      instance_num: manual ? placed : int(count),
      prefix: prefix.trim(),
      postfix: int(postfix),
      postfix_start: int(postfixStart),
      vcpu: int(vcpu),
      ram: ram.trim() === '' ? undefined : Number(ram),
      sys_restore: sysRestore ? 1 : 0,
      data_restore: Number(dataRestore),
      allocate_type: startIp.trim() ? 2 : 1,
    };
    if (poolUuid) body.pool_uuid = poolUuid;
    if (network) body.network_uuid = network;
    if (subnet) body.subnet_uuid = subnet;
    if (startIp.trim()) body.allocate_start = startIp.trim();
    if (manual) {
      const info: Record<string, number> = {};
      for (const n of compute) if (Number(perNode[n.ip]) > 0) info[n.ip] = Number(perNode[n.ip]);
      body.create_info = info;
    }
    try {
      await runTask(t('create.task', { name: body.name }), 'POST', `${PERSONAL}create`, body, setProgress);
      notify('success', t('create.done', { name: body.name }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };

  const netSubnets = (subnets.data || []).filter((s) => s.network_uuid === network);
  const canSubmit = name.trim() !== '' && template !== '' && prefix.trim() !== '' && (manual ? placed > 0 : Number(count) > 0);
  return (
    <Modal variant="medium" isOpen onClose={() => !busy && onClose(false)} aria-labelledby="personal-form-title" data-testid="personal-form">
      <ModalHeader title={t('create.title')} labelId="personal-form-title" description={t('create.intro')} />
      <ModalBody>
        <Form id="personal-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <ErrorAlert error={templates.error || userGroups.error} title={t('create.loadFailed')} />
          <FormGroup label={t('common:name')} fieldId="personal-form-name" isRequired>
            <TextInput id="personal-form-name" data-testid="personal-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v(['name', 'param.name'])} isRequired />
            {fe.help(['name', 'param.name'])}
          </FormGroup>
          <FormGroup label={t('field.template')} fieldId="personal-form-template" isRequired>
            <FormSelect
              id="personal-form-template"
              data-testid="personal-form-template"
              value={template}
              onChange={(_e, v) => setTemplate(v)}
              validated={fe.v('template_uuid')}
            >
              <FormSelectOption value="" label={templates.loading ? t('common:loading') : t('create.chooseTemplate')} isPlaceholder />
              {usable.map((x) => (
                <FormSelectOption key={x.uuid} value={x.uuid} label={x.name} />
              ))}
            </FormSelect>
            {fe.help('template_uuid') || (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem>{tpl ? t('create.templateHw', { vcpu: tpl.vcpu, ram: tpl.ram }) : t('create.templateHelp')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
          <FormGroup label={t('field.type')} fieldId="personal-form-type" role="radiogroup" isInline isRequired>
            <Radio
              id="personal-form-type-1"
              data-testid="personal-form-type-1"
              name="personal-form-type"
              label={t('type.1')}
              description={t('type.help1')}
              isChecked={type === 1}
              onChange={() => setType(1)}
            />
            <Radio
              id="personal-form-type-2"
              data-testid="personal-form-type-2"
              name="personal-form-type"
              label={t('type.2')}
              description={t('type.help2')}
              isChecked={type === 2}
              onChange={() => setType(2)}
            />
          </FormGroup>
          <FormGroup label={t('field.userGroups')} fieldId="personal-form-groups" role="group">
            {(userGroups.data || []).length === 0 && !userGroups.loading && <Alert isInline isPlain variant="info" title={t('create.noUserGroups')} />}
            <Grid hasGutter>
              {(userGroups.data || []).map((g) => (
                <GridItem span={6} key={g.uuid}>
                  <Checkbox
                    id={`personal-form-group-${g.uuid}`}
                    data-testid={`personal-form-group-${g.name}`}
                    label={g.name}
                    description={t('usersN', { count: g.user_count })}
                    isChecked={groups.includes(g.uuid)}
                    onChange={(_e, on) => setGroups((gs) => (on ? [...gs, g.uuid] : gs.filter((x) => x !== g.uuid)))}
                  />
                </GridItem>
              ))}
            </Grid>
            {fe.help('groups') || (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem variant={fe.v('groups') === 'error' ? 'error' : 'default'}>{type === 1 ? t('create.groupsHelp1') : t('create.groupsHelp2')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
          <FormSection title={t('create.desktops')} titleElement="h3">
            <Grid hasGutter md={6}>
              <GridItem>
                <FormGroup label={t('field.count')} fieldId="personal-form-count" isRequired>
                  <TextInput
                    id="personal-form-count"
                    data-testid="personal-form-count"
                    type="number"
                    min={1}
                    max={1000}
                    value={manual ? String(placed) : count}
                    isDisabled={manual}
                    onChange={(_e, v) => setCount(v)}
                    validated={fe.v('instance_num')}
                  />
                  {fe.help('instance_num') || (manual && (
                    <FormHelperText>
                      <HelperText>
                        <HelperTextItem>{t('create.countFromPlacement')}</HelperTextItem>
                      </HelperText>
                    </FormHelperText>
                  ))}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.prefix')} fieldId="personal-form-prefix" isRequired>
                  <TextInput
                    id="personal-form-prefix"
                    data-testid="personal-form-prefix"
                    value={prefix}
                    onChange={(_e, v) => {
                      setPrefix(v);
                      setPrefixTouched(true);
                    }}
                    validated={fe.v('prefix')}
                  />
                  {fe.help('prefix') || (
                    <FormHelperText>
                      <HelperText>
                        <HelperTextItem>{t('create.prefixHelp', { example: `${prefix || 'pd'}${String(Number(postfixStart) || 1).padStart(Number(postfix) || 0, '0')}` })}</HelperTextItem>
                      </HelperText>
                    </FormHelperText>
                  )}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.postfix')} fieldId="personal-form-postfix">
                  <TextInput id="personal-form-postfix" data-testid="personal-form-postfix" type="number" min={0} max={6} value={postfix} onChange={(_e, v) => setPostfix(v)} validated={fe.v('postfix')} />
                  {fe.help('postfix')}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.postfixStart')} fieldId="personal-form-postfix-start">
                  <TextInput id="personal-form-postfix-start" data-testid="personal-form-postfix-start" type="number" min={0} value={postfixStart} onChange={(_e, v) => setPostfixStart(v)} validated={fe.v('postfix_start')} />
                  {fe.help('postfix_start')}
                </FormGroup>
              </GridItem>
            </Grid>
          </FormSection>
          <ExpandableSection toggleText={t('create.more')} data-testid="personal-form-more" isIndented>
            <Grid hasGutter md={6}>
              <GridItem>
                <FormGroup label={t('field.vcpu')} fieldId="personal-form-vcpu">
                  <TextInput id="personal-form-vcpu" data-testid="personal-form-vcpu" type="number" min={1} max={128} value={vcpu} onChange={(_e, v) => setVcpu(v)} validated={fe.v('vcpu')} />
                  {fe.help('vcpu')}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.ram')} fieldId="personal-form-ram">
                  <TextInput id="personal-form-ram" data-testid="personal-form-ram" type="number" min={0.125} step={0.125} value={ram} onChange={(_e, v) => setRam(v)} validated={fe.v('ram')} />
                  {fe.help('ram')}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup fieldId="personal-form-sys-restore" label={t('field.sysRestore')}>
                  <Checkbox id="personal-form-sys-restore" data-testid="personal-form-sys-restore" label={t('create.sysRestoreLabel')} isChecked={sysRestore} onChange={(_e, v) => setSysRestore(v)} />
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.dataRestore')} fieldId="personal-form-data-restore">
                  <FormSelect id="personal-form-data-restore" data-testid="personal-form-data-restore" value={dataRestore} onChange={(_e, v) => setDataRestore(v)} validated={fe.v('data_restore')}>
                    {['0', '1', '2'].map((v) => (
                      <FormSelectOption key={v} value={v} label={t(`dataRestore.${v}`)} />
                    ))}
                  </FormSelect>
                  {fe.help('data_restore')}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.pool')} fieldId="personal-form-pool">
                  <FormSelect id="personal-form-pool" data-testid="personal-form-pool" value={pool} onChange={(_e, v) => setPool(v)} validated={fe.v('pool_uuid')}>
                    <FormSelectOption value="" label={t('create.templatePool')} />
                    {(pools.data || []).map((p) => (
                      <FormSelectOption key={p.uuid} value={p.uuid} label={p.name} />
                    ))}
                  </FormSelect>
                  {fe.help('pool_uuid')}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.network')} fieldId="personal-form-network">
                  <FormSelect
                    id="personal-form-network"
                    data-testid="personal-form-network"
                    value={network}
                    onChange={(_e, v) => {
                      setNetwork(v);
                      setSubnet('');
                    }}
                    validated={fe.v('network_uuid')}
                  >
                    <FormSelectOption value="" label={t('create.templateNetwork')} />
                    {(networks.data || []).map((n) => (
                      <FormSelectOption key={n.uuid} value={n.uuid} label={n.name} />
                    ))}
                  </FormSelect>
                  {fe.help('network_uuid')}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.subnet')} fieldId="personal-form-subnet">
                  <FormSelect id="personal-form-subnet" data-testid="personal-form-subnet" value={subnet} onChange={(_e, v) => setSubnet(v)} isDisabled={!network} validated={fe.v('subnet_uuid')}>
                    <FormSelectOption value="" label={t('create.dhcp')} />
                    {netSubnets.map((s) => (
                      <FormSelectOption key={s.uuid} value={s.uuid} label={`${s.name} (${s.start_ip} – ${s.end_ip})`} />
                    ))}
                  </FormSelect>
                  {fe.help('subnet_uuid')}
                </FormGroup>
              </GridItem>
              <GridItem>
                <FormGroup label={t('field.startIp')} fieldId="personal-form-start-ip">
                  <TextInput
                    id="personal-form-start-ip"
                    data-testid="personal-form-start-ip"
                    value={startIp}
                    isDisabled={!subnet}
                    placeholder={t('create.startIpAuto')}
                    onChange={(_e, v) => setStartIp(v)}
                    validated={fe.v(['allocate_start', 'ip_detail'])}
                  />
                  {fe.help(['allocate_start', 'ip_detail'])}
                </FormGroup>
              </GridItem>
            </Grid>
            <FormGroup label={t('field.placement')} fieldId="personal-form-placement" role="radiogroup" isInline>
              <Radio id="personal-form-placement-auto" data-testid="personal-form-placement-auto" name="personal-form-placement" label={t('placement.auto')} isChecked={!manual} onChange={() => setManual(false)} />
              <Radio
                id="personal-form-placement-manual"
                data-testid="personal-form-placement-manual"
                name="personal-form-placement"
                label={t('placement.manual')}
                isChecked={manual}
                isDisabled={compute.length === 0}
                onChange={() => setManual(true)}
              />
            </FormGroup>
            {manual && (
              <Grid hasGutter md={6}>
                {compute.map((n) => (
                  <GridItem key={n.uuid}>
                    <FormGroup label={t('placement.onServer', { name: n.name, ip: n.ip })} fieldId={`personal-form-node-${n.ip}`}>
                      <TextInput
                        id={`personal-form-node-${n.ip}`}
                        data-testid={`personal-form-node-${n.name}`}
                        type="number"
                        min={0}
                        value={perNode[n.ip] ?? ''}
                        onChange={(_e, v) => setPerNode((m) => ({ ...m, [n.ip]: v }))}
                        validated={fe.v(`create_info.${n.ip}`)}
                      />
                    </FormGroup>
                  </GridItem>
                ))}
              </Grid>
            )}
            {fe.v('create_info') === 'error' && fe.help('create_info')}
          </ExpandableSection>
          {progress && (
            <Progress
              value={progress.percent}
              title={progress.log[progress.log.length - 1] || t('create.working')}
              data-testid="personal-form-progress"
              aria-label={t('create.progress')}
            />
          )}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="personal-form" isLoading={busy} isDisabled={busy || !canSubmit} data-testid="personal-form-submit">
          {t('common:create')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)} isDisabled={busy}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
