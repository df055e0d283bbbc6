// Join a server: a PatternFly Wizard. 1 address + root password → node/check
// (hostname, NICs, virtualisation, filesystems, the controller's storage
// paths); 2 pool, switch, network and the data / management / image NICs
// node/add needs; 3 review; 4 node/add as a task with its progress.
import { Alert, Button, Form, FormGroup, Modal, TextInput, Wizard, WizardHeader, WizardStep } from '@patternfly/react-core';
import { FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, post, Task } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { TaskProgress } from '../../components/TaskDrawer';
import { useTasks } from '../../components/tasks';
import { Network, VSwitch } from '../network/types';
import { usePools } from './common';
import { CheckResult, CheckView, Placement, Review } from './JoinViews';

export function JoinWizard({ onClose }: { onClose: (joined: boolean) => void }) {
  const { t } = useTranslation('servers');
  const { runTask } = useTasks();
  const pools = usePools();
  const switches = useLoad(() => listAll<VSwitch>('vswitch'), []);
  const networks = useLoad(() => listAll<Network>('network'), []);
  const [ip, setIp] = useState('');
  const [pwd, setPwd] = useState('');
  const [checking, setChecking] = useState(false);
  const [check, setCheck] = useState<CheckResult | null>(null);
  const checkErr = useFieldErrors();
  const [place, setPlace] = useState<Placement>({ pool_uuid: '', switch_uuid: '', network_uuid: '', interface: '', manage_interface: '', image_interface: '' });
  const [task, setTask] = useState<Task | null>(null);
  const [running, setRunning] = useState(false);
  const [addErr, setAddErr] = useState<unknown>(null);

  // Defaults once the check and the lists are in: the default pool, the
  // default network, the NIC with the address as management and image NIC.
  useEffect(() => {
    if (!check) return;
    const nics = check.interface_list;
    const manage = nics.find((n) => n.ip === ip)?.interface || nics[0]?.interface || '';
    const data = nics.find((n) => n.interface !== manage)?.interface || manage;
    setPlace((p) => ({
      pool_uuid: p.pool_uuid || pools.data?.find((x) => x.default)?.uuid || pools.data?.[0]?.uuid || '',
      switch_uuid: p.switch_uuid || check.default_network_info?.virtual_switch?.uuid || switches.data?.[0]?.uuid || '',
      network_uuid: p.network_uuid || check.default_network_info?.network_info?.uuid || '',
      interface: p.interface || data,
      manage_interface: p.manage_interface || manage,
      image_interface: p.image_interface || manage,
    }));
  }, [check, pools.data, switches.data, ip]);

  const runCheck = async (e?: FormEvent) => {
    e?.preventDefault();
    setChecking(true);
    setCheck(null);
    checkErr.clear();
    try {
      setCheck(await post<CheckResult>('/api/v1/node/check', { ip: ip.trim(), root_pwd: pwd, check: true }));
    } catch (err) {
      checkErr.fail(err);
    } finally {
      setChecking(false);
    }
  };

  const join = async () => {
    setRunning(true);
    setAddErr(null);
    try {
      const done = await runTask(t('join.taskTitle', { ip }), 'POST', '/api/v1/node/add', { password: pwd, ip: ip.trim(), ...place }, setTask);
      setTask(done);
    } catch (err) {
      setAddErr(err);
    } finally {
      setRunning(false);
    }
  };

  const placed = Object.values(place).every(Boolean);
  const finished = task?.state === 'succeeded';
  return (
    <Modal isOpen variant="large" onEscapePress={() => onClose(finished)} aria-labelledby="join-title" data-testid="join-wizard">
      <Wizard
        height={560}
        header={<WizardHeader title={t('join.title')} titleId="join-title" description={t('join.description')} onClose={() => onClose(finished)} closeButtonAriaLabel={t('common:close')} />}
        onClose={() => onClose(finished)}
        onSave={() => onClose(finished)}
      >
        <WizardStep name={t('join.step1')} id="join-address" footer={{ isNextDisabled: !check || checking, nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel') }}>
          <Form id="join-check" onSubmit={runCheck} isHorizontal>
            <p>{t('join.step1Help')}</p>
            <FormGroup label={t('join.ip')} fieldId="join-ip" isRequired>
              <TextInput id="join-ip" data-testid="join-ip" value={ip} onChange={(_e, v) => { setIp(v); setCheck(null); }} validated={checkErr.v('ip')} isRequired />
              {checkErr.help('ip')}
            </FormGroup>
            <FormGroup label={t('join.rootPwd')} fieldId="join-pwd" isRequired>
              <TextInput id="join-pwd" data-testid="join-pwd" type="password" autoComplete="off" value={pwd} onChange={(_e, v) => { setPwd(v); setCheck(null); }} validated={checkErr.v('root_pwd')} />
              {checkErr.help('root_pwd')}
            </FormGroup>
            <div>
              <Button type="submit" variant="secondary" isLoading={checking} isDisabled={checking || !ip.trim()} data-testid="join-check">
                {t('join.check')}
              </Button>
            </div>
          </Form>
          <ErrorAlert error={checkErr.error} title={t('join.checkFailed')} />
          {check && <CheckView check={check} />}
        </WizardStep>
        <WizardStep name={t('join.step2')} id="join-place" isDisabled={!check} footer={{ isNextDisabled: !placed, nextButtonText: t('common:next'), backButtonText: t('common:back'), cancelButtonText: t('common:cancel') }}>
          {check && <Placement check={check} place={place} setPlace={setPlace} pools={pools.data || []} switches={switches.data || []} networks={networks.data || []} />}
          <ErrorAlert error={pools.error || switches.error || networks.error} />
        </WizardStep>
        <WizardStep
          name={t('join.step3')}
          id="join-review"
          isDisabled={!check || !placed}
          footer={{ nextButtonText: t('join.start'), onNext: () => void join(), isNextDisabled: running || finished, backButtonText: t('common:back'), isBackDisabled: running, cancelButtonText: t('common:cancel') }}
        >
          {(running || task) && (
            <div data-testid="join-progress">
              {task ? <TaskProgress task={task} /> : <Alert isInline variant="info" title={t('join.starting')} />}
            </div>
          )}
          <ErrorAlert error={addErr} title={t('join.failed')} />
          {finished && <Alert isInline variant="success" title={t('join.done', { name: check?.hostname || ip })} data-testid="join-done" />}
          {finished && (
            <Button variant="primary" onClick={() => onClose(true)}>
              {t('common:close')}
            </Button>
          )}
          {check && <Review ip={ip} check={check} place={place} pools={pools.data || []} switches={switches.data || []} networks={networks.data || []} />}
        </WizardStep>
      </Wizard>
    </Modal>
  );
}
