// Deleting a personal group: the confirmation names it and the desktops and
// data disks that go with it; running desktops are shut down first.
import { Alert } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { ConfirmModal } from '../../components/ConfirmModal';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { PERSONAL, PersonalGroup } from './model';

export function DeleteGroup({ group: g, onClose }: { group: PersonalGroup; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const { runTask } = useTasks();
  const running = g.active_count;
  return (
    <ConfirmModal
      title={t('delete.title', { name: g.name })}
      body={
        <>
          <p data-testid="personal-delete-body">{t('delete.body', { name: g.name, count: g.total_count })}</p>
          {running > 0 && <Alert isInline variant="warning" title={t('delete.running', { count: running })} />}
        </>
      }
      confirmLabel={running > 0 ? t('delete.stopAndDelete') : t('common:delete')}
      onConfirm={async () => {
        const body = { uuid: g.uuid, name: g.name };
        if (running > 0) await runTask(t('power.task.stop', { name: g.name }), 'POST', `${PERSONAL}stop`, body);
        await runTask(t('delete.task', { name: g.name }), 'POST', `${PERSONAL}delete`, body);
        notify('success', t('delete.done', { name: g.name }));
      }}
      onClose={onClose}
    />
  );
}
