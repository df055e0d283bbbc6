// The create wizard: basics (name, classroom, template), desktops (count,
// naming, restore flags), placement (network and desktops per server with
// their capacity), review. The create runs as a task whose progress shows
// in the last step; a refusal shows its message and goes back to the step
// of the field it names.
import { Alert, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Form, FormGroup, FormHelperText, FormSelect, FormSelectOption, HelperText, HelperTextItem, Modal, NumberInput, TextInput, useWizardContext, Wizard, WizardHeader, WizardStep } from '@patternfly/react-core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, listAll, Task } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useTasks } from '../../components/tasks';
import { TaskProgress } from '../../components/TaskDrawer';
import { fmtGB, fmtNumber } from '../../i18n';
import { Classroom, EDUCATION as ROOMS, GROUPS as ROOM_LIST } from '../classrooms/model';
import { Network, Subnet } from '../network/types';
import { Template, TEMPLATES } from '../templates/model';
import { desktopName, groupPath } from './model';
import { createInfo, Placement, placedCount, PlacementValue } from './Placement';
import { RestoreFields, restoreText } from './Restore';

const tid = (id: string) => ({ 'data-testid': id }) as object;
const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;

/** The step a refused field (or error code) belongs to. */
function stepOf(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  const f = e.field || '';
  if (['name', 'group_uuid', 'template_uuid'].includes(f) || [20802, 20601, 20603, 20701, 20809].includes(e.code)) return 'edu-basics';
  if (['instance_num', 'prefix', 'postfix', 'postfix_start', 'sys_restore', 'data_restore'].includes(f)) return 'edu-desktops';
  if (f.startsWith('create_info') || f.startsWith('ip_detail') || ['network_uuid', 'subnet_uuid', 'pool_uuid'].includes(f) || [20808, 20737, 20738, 20310, 20302].includes(e.code)) return 'edu-placement';
  return null;
}

/** Inside the wizard: goes to a step when asked. */
function Jump({ to, done }: { to: string | null; done: () => void }) {
  const { goToStepById } = useWizardContext();
  useEffect(() => {
    if (to) {
      goToStepById(to);
      done();
    }
  }, [to, goToStepById, done]);
  return null;
}

const suggestPrefix = (name: string) => {
  const p = name.replace(/[^A-Za-z0-9_-]+/g, '').slice(0, 28);
  return p ? `${p}-` : 'pc-';
};

export function CreateWizard({ onClose }: { onClose: (uuid?: string) => void }) {
  const { t } = useTranslation('edu');
  const { runTask } = useTasks();
  const fe = useFieldErrors();
  const refs = useLoad(
    async () => ({
      rooms: await listAll<Classroom>(ROOM_LIST, ROOMS),
      templates: await listAll<Template>(TEMPLATES),
      networks: await listAll<Network>('network'),
      subnets: await listAll<Subnet>('subnet'),
    }),
    [],
  );
  const d = refs.data;
  const [name, setName] = useState('');
  const [room, setRoom] = useState('');
  const [tpl, setTpl] = useState('');
  const [count, setCount] = useState(1);
  const [countTouched, setCountTouched] = useState(false);
  const [prefix, setPrefix] = useState('');
  const [prefixTouched, setPrefixTouched] = useState(false);
  const [postfix, setPostfix] = useState(2);
  const [postfixStart, setPostfixStart] = useState(1);
  const [sys, setSys] = useState(true);
  const [data, setData] = useState(0);
  const [network, setNetwork] = useState('');
  const [subnet, setSubnet] = useState('');
  const [startIp, setStartIp] = useState('');
  const [place, setPlace] = useState<PlacementValue>(null);
  const [busy, setBusy] = useState(false);
  const [task, setTask] = useState<Task | null>(null);
  const [jump, setJump] = useState<string | null>(null);

  const classroom = d?.rooms.find((r) => r.uuid === room);
  const template = d?.templates.find((x) => x.uuid === tpl);
  const hasData = !!template?.devices.some((x) => x.type === 'data');
  // A template serves the classrooms it is bound to, or every one when bound to none.
  const usable = (x: Template) => !room || x.groups.length === 0 || x.groups.some((g) => g.uuid === room);
  const ready = (x: Template) => x.version > 0 && x.status !== 'updating';
  useEffect(() => {
    if (!countTouched && classroom?.seat_count) setCount(Math.min(1000, classroom.seat_count));
  }, [classroom, countTouched]);
  useEffect(() => {
    if (!prefixTouched) setPrefix(suggestPrefix(name));
  }, [name, prefixTouched]);
  useEffect(() => {
    if (template && !template.devices.some((x) => x.type === 'data')) setData(0);
    setPlace(null);
  }, [template]);
  const subnets = (d?.subnets || []).filter((s) => s.network_uuid === network);

  const basicsOk = !!name.trim() && !!room && !!tpl;
  const prefixOk = PREFIX.test(prefix.trim());
  const desktopsOk = prefixOk && count >= 1 && count <= 1000;
  const placeOk = place === null || placedCount(place) === count;
  const submit = async () => {
    fe.clear();
    setTask(null);
    setBusy(true);
    const body: Record<string, unknown> = {
      name: name.trim(),
      group_uuid: room,
      template_uuid: tpl,
      instance_num: count,
      prefix: prefix.trim(),
      postfix,
      postfix_start: postfixStart,
      sys_restore: sys ? 1 : 0,
      data_restore: hasData ? data : 0,
    };
    const ci = createInfo(place);
    if (ci) body.create_info = ci;
    if (network) {
      body.network_uuid = network;
      if (subnet) body.subnet_uuid = subnet;
    }
    if (startIp.trim()) body.ip_detail = { auto: false, start_ip: startIp.trim() };
    try {
      const done = await runTask(t('create.task', { name: name.trim() }), 'POST', groupPath('create'), body, setTask);
      onClose((done.result as { uuid?: string } | null)?.uuid);
    } catch (e) {
      fe.fail(e);
      setBusy(false);
      setJump(stepOf(e));
    }
  };
  const footer = (ok: boolean) => ({ isNextDisabled: !ok, nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), nextButtonProps: tid('edu-wizard-next') });
  const stepError = (id: string) => (fe.error && stepOf(fe.error) === id ? <ErrorAlert error={fe.error} /> : null);
  const names = count > 0 && prefixOk ? [desktopName(prefix.trim(), postfix, postfixStart), count > 1 ? desktopName(prefix.trim(), postfix, postfixStart + count - 1) : null].filter(Boolean).join(' … ') : '—';
  const nameOf = <X extends { uuid: string; name: string }>(l: X[] | undefined, u: string) => l?.find((x) => x.uuid === u)?.name || '—';
  const row = (term: string, value: React.ReactNode) => (
    <DescriptionListGroup key={term}>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{value}</DescriptionListDescription>
    </DescriptionListGroup>
  );
  return (
    <Modal isOpen variant="large" onEscapePress={() => onClose()} aria-label={t('create.title')} data-testid="edu-wizard">
      <Wizard
        height={600}
        onClose={() => onClose()}
        onSave={submit}
        header={<WizardHeader title={t('create.title')} description={t('create.description')} onClose={() => onClose()} closeButtonAriaLabel={t('common:close')} />}
      >
        <WizardStep name={t('create.stepBasics')} id="edu-basics" footer={footer(basicsOk)}>
          <Form>
            {stepError('edu-basics')}
            <ErrorAlert error={refs.error} />
            <FormGroup label={t('common:name')} fieldId="edu-wizard-name" isRequired>
              <TextInput id="edu-wizard-name" data-testid="edu-wizard-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.error instanceof ApiError && fe.error.code === 20802 ? 'error' : fe.v('name')} isRequired />
              {fe.help('name')}
            </FormGroup>
            <FormGroup label={t('col.classroom')} fieldId="edu-wizard-classroom" isRequired>
              <FormSelect id="edu-wizard-classroom" data-testid="edu-wizard-classroom" value={room} onChange={(_e, v) => setRoom(v)} validated={fe.v('group_uuid')}>
                <FormSelectOption value="" label={t('create.chooseClassroom')} isPlaceholder />
                {(d?.rooms || []).map((r) => (
                  <FormSelectOption key={r.uuid} value={r.uuid} label={r.start_ip ? t('create.roomOption', { name: r.name, start: r.start_ip, end: r.end_ip, count: r.seat_count }) : r.name} />
                ))}
              </FormSelect>
              {fe.help('group_uuid')}
            </FormGroup>
            <FormGroup label={t('col.template')} fieldId="edu-wizard-template" isRequired>
              <FormSelect id="edu-wizard-template" data-testid="edu-wizard-template" value={tpl} onChange={(_e, v) => setTpl(v)} validated={fe.v('template_uuid')}>
                <FormSelectOption value="" label={t('create.chooseTemplate')} isPlaceholder />
                {(d?.templates || []).map((x) => (
                  <FormSelectOption
                    key={x.uuid}
                    value={x.uuid}
                    isDisabled={!usable(x) || !ready(x)}
                    label={!ready(x) ? t('create.templateNotReady', { name: x.name }) : !usable(x) ? t('create.templateOtherRooms', { name: x.name }) : t('create.templateOption', { name: x.name, vcpu: x.vcpu, ram: fmtGB(x.ram) })}
                  />
                ))}
              </FormSelect>
              {fe.help('template_uuid')}
            </FormGroup>
            {d && d.rooms.length === 0 && <Alert isInline variant="info" title={t('create.noClassrooms')} />}
            {d && d.templates.length === 0 && <Alert isInline variant="info" title={t('create.noTemplates')} />}
          </Form>
        </WizardStep>
        <WizardStep name={t('create.stepDesktops')} id="edu-desktops" footer={footer(desktopsOk)}>
          <Form>
            {stepError('edu-desktops')}
            <FormGroup label={t('create.count')} fieldId="edu-wizard-count" isRequired>
              <NumberInput
                id="edu-wizard-count"
                data-testid="edu-wizard-count"
                value={count}
                min={1}
                max={1000}
                onMinus={() => { setCountTouched(true); setCount(Math.max(1, count - 1)); }}
                onPlus={() => { setCountTouched(true); setCount(Math.min(1000, count + 1)); }}
                onChange={(e) => { setCountTouched(true); setCount(Math.min(1000, Math.max(1, Number((e.target as HTMLInputElement).value) || 1))); }}
                inputAria-label={t('create.count')}
                minusBtnAriaLabel={t('less')}
                plusBtnAriaLabel={t('more')}
                validated={fe.v('instance_num')}
              />
              <FormHelperText>
                <HelperText>
                  <HelperTextItem>{classroom ? t('create.countHint', { count: classroom.seat_count, name: classroom.name }) : ''}</HelperTextItem>
                </HelperText>
              </FormHelperText>
              {fe.help('instance_num')}
            </FormGroup>
            <FormGroup label={t('create.prefix')} fieldId="edu-wizard-prefix" isRequired>
              <TextInput id="edu-wizard-prefix" data-testid="edu-wizard-prefix" value={prefix} onChange={(_e, v) => { setPrefixTouched(true); setPrefix(v); }} validated={!prefixOk && prefix !== '' ? 'error' : fe.v('prefix')} />
              {fe.help('prefix') || (
                <FormHelperText>
                  <HelperText>
                    <HelperTextItem variant={prefixOk ? 'default' : 'error'}>{t('create.prefixHint')}</HelperTextItem>
                  </HelperText>
                </FormHelperText>
              )}
            </FormGroup>
            <FormGroup label={t('create.postfix')} fieldId="edu-wizard-postfix">
              <NumberInput id="edu-wizard-postfix" data-testid="edu-wizard-postfix" value={postfix} min={0} max={6} onMinus={() => setPostfix(Math.max(0, postfix - 1))} onPlus={() => setPostfix(Math.min(6, postfix + 1))} onChange={(e) => setPostfix(Math.min(6, Math.max(0, Number((e.target as HTMLInputElement).value) || 0)))} inputAria-label={t('create.postfix')} minusBtnAriaLabel={t('less')} plusBtnAriaLabel={t('more')} validated={fe.v('postfix')} />
              {fe.help('postfix')}
            </FormGroup>
            <FormGroup label={t('create.postfixStart')} fieldId="edu-wizard-postfix-start">
              <NumberInput id="edu-wizard-postfix-start" data-testid="edu-wizard-postfix-start" value={postfixStart} min={0} max={999999} onMinus={() => setPostfixStart(Math.max(0, postfixStart - 1))} onPlus={() => setPostfixStart(postfixStart + 1)} onChange={(e) => setPostfixStart(Math.max(0, Number((e.target as HTMLInputElement).value) || 0))} inputAria-label={t('create.postfixStart')} minusBtnAriaLabel={t('less')} plusBtnAriaLabel={t('more')} validated={fe.v('postfix_start')} />
              {fe.help('postfix_start')}
            </FormGroup>
            <p className="vdi-muted" data-testid="edu-wizard-names">
              {t('create.namesPreview', { names })}
            </p>
            <RestoreFields sys={sys} data={data} onSys={setSys} onData={setData} hasData={hasData} creating help={fe.help} v={fe.v} />
          </Form>
        </WizardStep>
        <WizardStep name={t('create.stepPlacement')} id="edu-placement" footer={footer(placeOk)}>
          <Form>
            {stepError('edu-placement')}
            <Placement pool={template?.pool_uuid || ''} ramGb={template?.ram || 0} count={count} value={place} onChange={setPlace} validated={fe.v('create_info')} />
            {fe.help('create_info')}
            <FormGroup label={t('col.network')} fieldId="edu-wizard-network">
              <FormSelect id="edu-wizard-network" data-testid="edu-wizard-network" value={network} onChange={(_e, v) => { setNetwork(v); setSubnet(''); }} validated={fe.v('network_uuid')}>
                <FormSelectOption value="" label={t('create.networkDefault')} />
                {(d?.networks || []).map((n) => (
                  <FormSelectOption key={n.uuid} value={n.uuid} label={n.name} />
                ))}
              </FormSelect>
              {fe.help('network_uuid')}
            </FormGroup>
            {network && (
              <FormGroup label={t('col.subnet')} fieldId="edu-wizard-subnet">
                <FormSelect id="edu-wizard-subnet" data-testid="edu-wizard-subnet" value={subnet} onChange={(_e, v) => setSubnet(v)} validated={fe.v('subnet_uuid')}>
                  <FormSelectOption value="" label={t('create.dhcp')} />
                  {subnets.map((s) => (
                    <FormSelectOption key={s.uuid} value={s.uuid} label={`${s.name} (${s.start_ip} – ${s.end_ip})`} />
                  ))}
                </FormSelect>
                {fe.help('subnet_uuid')}
              </FormGroup>
            )}
            <FormGroup label={t('create.startIp')} fieldId="edu-wizard-start-ip">
              <TextInput id="edu-wizard-start-ip" data-testid="edu-wizard-start-ip" value={startIp} onChange={(_e, v) => setStartIp(v)} validated={fe.v('ip_detail')} placeholder={t('create.startIpAuto')} />
              {fe.help('ip_detail') || (
                <FormHelperText>
                  <HelperText>
                    <HelperTextItem>{t('create.startIpHint')}</HelperTextItem>
                  </HelperText>
                </FormHelperText>
              )}
            </FormGroup>
          </Form>
        </WizardStep>
        <WizardStep
          name={t('create.stepReview')}
          id="edu-review"
          footer={{ nextButtonText: t('create.submit'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel'), isNextDisabled: busy || !basicsOk || !desktopsOk || !placeOk, nextButtonProps: { ...tid('edu-wizard-submit'), isLoading: busy } }}
        >
          <Jump to={jump} done={() => setJump(null)} />
          <DescriptionList isHorizontal isCompact>
            {row(t('common:name'), name)}
            {row(t('col.classroom'), classroom ? `${classroom.name} (${classroom.start_ip || '—'} – ${classroom.end_ip || '—'})` : '—')}
            {row(t('col.template'), template ? `${template.name} · ${t('create.templateHw', { vcpu: template.vcpu, ram: fmtGB(template.ram) })}` : '—')}
            {row(t('col.desktops'), `${fmtNumber(count)} · ${names}`)}
            {row(t('col.restore'), restoreText(t, sys, hasData ? data : 0))}
            {row(t('col.network'), network ? `${nameOf(d?.networks, network)} / ${subnet ? nameOf(d?.subnets, subnet) : t('create.dhcp')}` : t('create.networkDefault'))}
            {startIp.trim() && row(t('create.startIp'), startIp.trim())}
            {row(t('create.stepPlacement'), place === null ? t('place.auto') : Object.entries(place).filter(([, n]) => n > 0).map(([ip, n]) => `${ip} × ${n}`).join(', '))}
          </DescriptionList>
          {task && <TaskProgress task={task} />}
          <ErrorAlert error={fe.error} />
        </WizardStep>
      </Wizard>
    </Modal>
  );
}
