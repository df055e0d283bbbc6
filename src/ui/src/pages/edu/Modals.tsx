// The dialogs of a group: edit (rename, restore flags), add desktops
// (count and placement, a task), and delete (a task; names the desktops
// and data disks that go with it).
import { Button, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, NumberInput, TextInput } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post, Task } from '../../api';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { TaskProgress } from '../../components/TaskDrawer';
import { fmtNumber } from '../../i18n';
import { desktopName, EduGroup, groupPath, instancePath } from './model';
import { createInfo, Placement, placedCount, PlacementValue } from './Placement';
import { RestoreFields } from './Restore';

export function EditModal({ group: g, hasData, onClose }: { group: EduGroup; hasData: boolean; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('edu');
  const notify = useNotify();
  const fe = useFieldErrors();
  const [name, setName] = useState(g.name);
  const [sys, setSys] = useState(!!g.sys_restore);
  const [data, setData] = useState(g.data_restore);
  const [busy, setBusy] = useState(false);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    fe.clear();
    setBusy(true);
    const value: Record<string, unknown> = { sys_restore: sys ? 1 : 0, data_restore: data };
    if (name.trim() !== g.name) value.name = name.trim();
    try {
      await post(groupPath('update'), { uuid: g.uuid, name: g.name, value });
      notify('success', t('edit.done', { name: name.trim() }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="medium" isOpen onClose={() => onClose(false)} aria-labelledby="edu-edit-title" data-testid="edu-edit-form">
      <ModalHeader title={t('edit.title', { name: g.name })} labelId="edu-edit-title" />
      <ModalBody>
        <Form id="edu-edit-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('common:name')} fieldId="edu-edit-name" isRequired>
            <TextInput id="edu-edit-name" data-testid="edu-edit-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v(['value.name', 'name'])} isRequired />
            {fe.help(['value.name', 'name'])}
          </FormGroup>
          <RestoreFields sys={sys} data={data} onSys={setSys} onData={setData} hasData={hasData || g.data_restore !== 0} creating={false} help={fe.help} v={fe.v} />
          <p className="vdi-muted">{t('edit.restoreHint')}</p>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="edu-edit-form" isLoading={busy} isDisabled={busy || !name.trim()} data-testid="edu-edit-submit">
          {t('common:save')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function AddDesktopsModal({ group: g, existing, onClose }: { group: EduGroup; existing: number; onClose: (added: boolean) => void }) {
  const { t } = useTranslation('edu');
  const notify = useNotify();
  const { runTask } = useTasks();
  const fe = useFieldErrors();
  const [count, setCount] = useState(1);
  const [place, setPlace] = useState<PlacementValue>(null);
  const [busy, setBusy] = useState(false);
  const [task, setTask] = useState<Task | null>(null);
  const ok = count >= 1 && (place === null || placedCount(place) === count);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    fe.clear();
    setBusy(true);
    const body: Record<string, unknown> = { desktop_uuid: g.uuid, desktop_type: 1, instance_num: count };
    const ci = createInfo(place);
    if (ci) body.create_info = ci;
    try {
      await runTask(t('add.task', { count, name: g.name }), 'POST', instancePath('create'), body, setTask);
      notify('success', t('add.done', { count, name: g.name }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="large" isOpen onClose={() => onClose(false)} aria-labelledby="edu-add-title" data-testid="edu-add-form">
      <ModalHeader title={t('add.title', { name: g.name })} description={t('add.description', { count: existing })} labelId="edu-add-title" />
      <ModalBody>
        <Form id="edu-add-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('create.count')} fieldId="edu-add-count" isRequired>
            <NumberInput
              id="edu-add-count"
              data-testid="edu-add-count"
              value={count}
              min={1}
              max={1000}
              onMinus={() => setCount(Math.max(1, count - 1))}
              onPlus={() => setCount(Math.min(1000, count + 1))}
              onChange={(e) => setCount(Math.min(1000, Math.max(1, Number((e.target as HTMLInputElement).value) || 1)))}
              inputAria-label={t('create.count')}
              minusBtnAriaLabel={t('less')}
              plusBtnAriaLabel={t('more')}
              validated={fe.v('instance_num')}
            />
            {fe.help('instance_num')}
          </FormGroup>
          <p className="vdi-muted">{t('add.naming', { name: desktopName(g.prefix, g.postfix, g.postfix_start) })}</p>
          <Placement pool={g.pool_uuid} ramGb={g.ram} count={count} value={place} onChange={setPlace} validated={fe.v('create_info')} />
          {fe.help('create_info')}
          {task && <TaskProgress task={task} />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="edu-add-form" isLoading={busy} isDisabled={busy || !ok} data-testid="edu-add-submit">
          {t('add.submit', { count })}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export function DeleteGroup({ group: g, onClose }: { group: EduGroup; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('edu');
  const notify = useNotify();
  const { runTask } = useTasks();
  return (
    <ConfirmModal
      title={t('delete.title', { name: g.name })}
      body={
        <>
          <p>{t('delete.body', { name: g.name, classroom: g.group_name || '—' })}</p>
          <p data-testid="edu-delete-desktops">
            <strong>{t('delete.desktops', { count: g.total_count, n: fmtNumber(g.total_count) })}</strong>
          </p>
          {g.active_count > 0 && <p>{t('delete.running', { count: g.active_count })}</p>}
          {g.default && <p>{t('delete.default')}</p>}
        </>
      }
      confirmLabel={t('common:delete')}
      onConfirm={() => runTask(t('delete.task', { name: g.name }), 'POST', groupPath('delete'), { uuid: g.uuid, name: g.name })}
      onClose={(done) => {
        if (done) notify('success', t('delete.done', { name: g.name }));
        onClose(done);
      }}
    />
  );
}
