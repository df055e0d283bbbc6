// Deleting a template: the confirmation names it, the desktop groups made
// from it (the service refuses while there are any) and the classrooms it
// is bound to; the delete runs as a task.
import { useTranslation } from 'react-i18next';
import { ConfirmModal } from '../../components/ConfirmModal';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { desktopGroupsOf, Template } from './model';

export function DeleteTemplate({ template: tp, onClose }: { template: Template; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('templates');
  const notify = useNotify();
  const { runTask } = useTasks();
  const groups = useLoad(() => desktopGroupsOf(tp.uuid), [tp.uuid]);
  const rooms = tp.groups.map((g) => g.name || g.uuid);
  return (
    <ConfirmModal
      title={t('delete.title', { name: tp.name })}
      body={
        <>
          <p>{t('delete.body', { name: tp.name })}</p>
          {(groups.data?.length || 0) > 0 && (
            <p data-testid="template-used-by">
              <strong>{t('delete.usedBy', { count: groups.data!.length, names: groups.data!.join(', ') })}</strong>
            </p>
          )}
          {rooms.length > 0 && <p>{t('delete.rooms', { count: rooms.length, names: rooms.join(', ') })}</p>}
        </>
      }
      confirmLabel={t('common:delete')}
      onConfirm={() => runTask(t('delete.task', { name: tp.name }), 'POST', '/api/v1/template/delete', { uuid: tp.uuid })}
      onClose={(done) => {
        if (done) notify('success', t('delete.done', { name: tp.name }));
        onClose(done);
      }}
    />
  );
}
