// Adding desktops to a personal group (numbering continues), as a task.
import { Button, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, Modal, ModalBody, ModalFooter, ModalHeader, Progress, TextInput } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Task } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { INSTANCE, PersonalGroup } from './model';

export function AddModal({ group: g, onClose }: { group: PersonalGroup; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const { runTask } = useTasks();
  const fe = useFieldErrors();
  const [count, setCount] = useState('1');
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<Task | null>(null);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    fe.clear();
    try {
      await runTask(t('add.task', { name: g.name, count: Number(count) }), 'POST', `${INSTANCE}create`, { desktop_uuid: g.uuid, desktop_type: 2, instance_num: Number(count) }, setProgress);
      notify('success', t('add.done', { name: g.name, count: Number(count) }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => !busy && onClose(false)} aria-labelledby="personal-add-title" data-testid="personal-add-form">
      <ModalHeader title={t('add.title', { name: g.name })} labelId="personal-add-title" />
      <ModalBody>
        <Form id="personal-add-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('field.count')} fieldId="personal-add-count" isRequired>
            <TextInput id="personal-add-count" data-testid="personal-add-count" type="number" min={1} max={1000} value={count} onChange={(_e, v) => setCount(v)} validated={fe.v(['instance_num', 'create_info'])} />
            {fe.help(['instance_num', 'create_info']) || (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem>{t('add.help')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
          {progress && <Progress value={progress.percent} title={progress.log[progress.log.length - 1] || t('create.working')} aria-label={t('create.progress')} />}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="personal-add-form" isLoading={busy} isDisabled={busy || !(Number(count) > 0)} data-testid="personal-add-submit">
          {t('add.button')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)} isDisabled={busy}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
