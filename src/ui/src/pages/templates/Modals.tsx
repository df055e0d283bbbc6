// The template detail's dialogs: save a version with a remark, copy to a
// new template, change hardware (vCPU, RAM, grow disks, add data disks).
import { Button, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, NumberInput, TextInput } from '@patternfly/react-core';
import TrashIcon from '@patternfly/react-icons/dist/esm/icons/trash-icon';
import { ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Task } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useTasks } from '../../components/tasks';
import { TaskProgress } from '../../components/TaskDrawer';
import { putTemplate, Template, TEMPLATES } from './model';

function FormModal(p: { title: string; testId: string; submitLabel: string; busy: boolean; onSubmit: () => void; onClose: () => void; children: ReactNode; valid?: boolean }) {
  const { t } = useTranslation('templates');
  return (
    <Modal variant="small" isOpen onClose={p.onClose} aria-labelledby={`${p.testId}-title`} data-testid={`${p.testId}-modal`}>
      <ModalHeader title={p.title} labelId={`${p.testId}-title`} />
      <ModalBody>
        <Form
          id={`${p.testId}-form`}
          onSubmit={(e) => {
            e.preventDefault();
            p.onSubmit();
          }}
        >
          {p.children}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form={`${p.testId}-form`} isLoading={p.busy} isDisabled={p.busy || p.valid === false} data-testid={`${p.testId}-submit`}>
          {p.submitLabel}
        </Button>
        <Button variant="link" onClick={p.onClose}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** Runs a task from a dialog: busy, progress and the error stay in it. */
function useDialogTask(onDone: () => void) {
  const { runTask } = useTasks();
  const fe = useFieldErrors();
  const [busy, setBusy] = useState(false);
  const [task, setTask] = useState<Task | null>(null);
  const run = async (title: string, path: string, body: Record<string, unknown>) => {
    fe.clear();
    setBusy(true);
    try {
      await runTask(title, 'POST', path, body, setTask);
      onDone();
    } catch (e) {
      fe.fail(e);
      setBusy(false);
    }
  };
  return { fe, busy, task, run };
}

export function SaveModal({ template: tp, onClose }: { template: Template; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('templates');
  const [remark, setRemark] = useState('');
  const d = useDialogTask(() => onClose(true));
  // A template installing from an ISO finishes with iso_save (the ISO is ejected, version 1 published).
  const installing = tp.status === 'installing';
  const submit = () =>
    installing
      ? void d.run(t('save.isoTask', { name: tp.name }), TEMPLATES, { action: 'iso_save', param: { uuid: tp.uuid, name: tp.name } })
      : void d.run(t('save.task', { name: tp.name }), '/api/v1/template/save', { uuid: tp.uuid, desc: remark });
  return (
    <FormModal title={installing ? t('save.isoTitle', { name: tp.name }) : t('save.title', { name: tp.name })} testId="template-save" submitLabel={installing ? t('save.isoSubmit') : t('save.submit')} busy={d.busy} onClose={() => onClose(false)} onSubmit={submit}>
      <p>{installing ? t('save.isoBody', { name: tp.name }) : t('save.body', { name: tp.name, next: tp.version + 1 })}</p>
      {!installing && (
        <FormGroup label={t('save.remark')} fieldId="save-remark">
          <TextInput id="save-remark" data-testid="template-save-remark" value={remark} onChange={(_e, v) => setRemark(v)} validated={d.fe.v('desc')} />
          {d.fe.help('desc')}
        </FormGroup>
      )}
      {d.task && <TaskProgress task={d.task} />}
      <ErrorAlert error={d.fe.error} />
    </FormModal>
  );
}

export function CopyModal({ template: tp, onClose }: { template: Template; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('templates');
  const [name, setName] = useState(t('copy.defaultName', { name: tp.name }));
  const d = useDialogTask(() => onClose(true));
  const body = { template_uuid: tp.uuid, name: name.trim(), pool_uuid: tp.pool_uuid, network_uuid: tp.network_uuid || '', subnet_uuid: tp.subnet_uuid || '', bind_ip: '' };
  return (
    <FormModal title={t('copy.title', { name: tp.name })} testId="template-copy" submitLabel={t('copy.submit')} busy={d.busy} valid={!!name.trim()} onClose={() => onClose(false)} onSubmit={() => void d.run(t('copy.task', { name: tp.name, to: name.trim() }), '/api/v1/template/copy', body)}>
      <p>{t('copy.body', { name: tp.name, version: tp.version })}</p>
      <FormGroup label={t('copy.name')} fieldId="copy-name" isRequired>
        <TextInput id="copy-name" data-testid="template-copy-name" value={name} onChange={(_e, v) => setName(v)} validated={d.fe.v('name')} />
        {d.fe.help('name')}
      </FormGroup>
      {d.task && <TaskProgress task={d.task} />}
      <ErrorAlert error={d.fe.error} />
    </FormModal>
  );
}

export function HardwareModal({ template: tp, onClose }: { template: Template; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('templates');
  const fe = useFieldErrors();
  const [busy, setBusy] = useState(false);
  const [vcpu, setVcpu] = useState(tp.vcpu);
  const [ram, setRam] = useState(tp.ram);
  const [sizes, setSizes] = useState<Record<string, number>>(Object.fromEntries(tp.devices.map((x) => [x.uuid, x.size])));
  const [added, setAdded] = useState<number[]>([]);
  const submit = async () => {
    fe.clear();
    setBusy(true);
    const devices = [
      ...tp.devices.filter((x) => sizes[x.uuid] !== x.size).map((x) => ({ uuid: x.uuid, size: sizes[x.uuid] })),
      ...added.map((size, i) => ({ inx: i, size })),
    ];
    const value: Record<string, unknown> = {};
    if (vcpu !== tp.vcpu) value.vcpu = vcpu;
    if (ram !== tp.ram) value.ram = ram;
    if (devices.length) value.devices = devices;
    try {
      await putTemplate(tp, value);
      onClose(true);
    } catch (e) {
      fe.fail(e);
      setBusy(false);
    }
  };
  const num = (id: string, label: string, value: number, min: number, set: (n: number) => void, field: string, step = 1) => (
    <FormGroup key={id} label={label} fieldId={id}>
      <NumberInput id={id} data-testid={id} value={value} min={min} onMinus={() => set(Math.max(min, value - step))} onPlus={() => set(value + step)} onChange={(e) => set(Number((e.target as HTMLInputElement).value) || min)} inputAria-label={label} minusBtnAriaLabel={t('hw.less')} plusBtnAriaLabel={t('hw.more')} validated={fe.v(field)} />
      {fe.help(field)}
    </FormGroup>
  );
  return (
    <FormModal title={t('hw.title', { name: tp.name })} testId="template-hw" submitLabel={t('common:save')} busy={busy} onClose={() => onClose(false)} onSubmit={() => void submit()}>
      <p className="vdi-muted">{t('hw.body')}</p>
      {num('template-hw-vcpu', t('hw.vcpu'), vcpu, 1, setVcpu, 'value.vcpu')}
      {num('template-hw-ram', t('hw.ramGb'), ram, 1, setRam, 'value.ram')}
      {tp.devices.map((x, i) =>
        num(`template-hw-disk-${x.device_name}`, t(x.type === 'system' ? 'hw.growSystem' : 'hw.growData', { dev: x.device_name }), sizes[x.uuid], x.size, (n) => setSizes({ ...sizes, [x.uuid]: n }), `value.devices[${i}]`, 10),
      )}
      {added.map((size, i) => (
        <div key={`new-${i}`}>
          {num(`template-hw-new-${i}`, t('hw.newDataDisk', { n: i + 1 }), size, 1, (n) => setAdded(added.map((y, j) => (j === i ? n : y))), `value.devices[${tp.devices.length + i}]`, 10)}
          <Button variant="plain" icon={<TrashIcon />} aria-label={t('hw.removeDisk', { n: i + 1 })} onClick={() => setAdded(added.filter((_y, j) => j !== i))} />
        </div>
      ))}
      <Button variant="link" isInline onClick={() => setAdded([...added, 20])} data-testid="template-hw-add-disk">
        {t('hw.addDataDisk')}
      </Button>
      <ErrorAlert error={fe.error} />
    </FormModal>
  );
}
