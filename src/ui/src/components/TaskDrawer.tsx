// The tasks drawer: every running or queued task and the ones this browser
// started, with live progress; links to the task history.
import { Button, DataList, DataListCell, DataListItem, DataListItemCells, DataListItemRow, DrawerActions, DrawerCloseButton, DrawerHead, DrawerPanelBody, DrawerPanelContent, Progress, ProgressMeasureLocation, ProgressVariant, Title } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { Task } from '../api';
import { navigate } from '../app/router';
import { fmtAgo } from '../i18n';
import { useTasks } from './tasks';

export function TaskProgress({ task }: { task: Task }) {
  const { t } = useTranslation();
  const variant = task.state === 'failed' || task.state === 'cancelled' ? ProgressVariant.danger : task.state === 'succeeded' ? ProgressVariant.success : undefined;
  return (
    <Progress
      value={task.state === 'succeeded' ? 100 : task.percent}
      title={t(`tasks:state.${task.state}`, { defaultValue: task.state })}
      variant={variant}
      measureLocation={ProgressMeasureLocation.outside}
      helperText={task.error || task.log?.[task.log.length - 1] || undefined}
      aria-label={t('shell:tasks.progressOf', { kind: task.kind })}
    />
  );
}

export function TaskDrawerPanel() {
  const { t } = useTranslation();
  const { tracked, running, setDrawerOpen, forget } = useTasks();
  const ids = new Set(tracked.map((x) => x.id));
  const others = running.filter((r) => !ids.has(r.uuid));
  return (
    <DrawerPanelContent widths={{ default: 'width_33' }} data-testid="task-drawer">
      <DrawerHead>
        <Title headingLevel="h2" size="lg">
          {t('shell:tasks.title')}
        </Title>
        <DrawerActions>
          <DrawerCloseButton onClick={() => setDrawerOpen(false)} />
        </DrawerActions>
      </DrawerHead>
      <DrawerPanelBody>
        {tracked.length + others.length === 0 && <p>{t('shell:tasks.none')}</p>}
        <DataList aria-label={t('shell:tasks.title')} isCompact>
          {tracked.map((x) => (
            <DataListItem key={x.id} data-testid="drawer-task">
              <DataListItemRow>
                <DataListItemCells
                  dataListCells={[
                    <DataListCell key="c">
                      <strong>{x.title}</strong>
                      {x.task ? <TaskProgress task={x.task} /> : <Progress value={0} title={t('tasks:state.queued')} aria-label={x.title} />}
                      {x.task && x.task.state !== 'running' && x.task.state !== 'queued' && (
                        <Button variant="link" isInline onClick={() => forget(x.id)}>
                          {t('shell:tasks.dismiss')}
                        </Button>
                      )}
                    </DataListCell>,
                  ]}
                />
              </DataListItemRow>
            </DataListItem>
          ))}
          {others.map((task) => (
            <DataListItem key={task.uuid} data-testid="drawer-task">
              <DataListItemRow>
                <DataListItemCells
                  dataListCells={[
                    <DataListCell key="c">
                      <strong>{t(`tasks:kind.${task.kind}`, { defaultValue: task.kind })}</strong> {task.target} · {fmtAgo(task.created_at)}
                      <TaskProgress task={task} />
                    </DataListCell>,
                  ]}
                />
              </DataListItemRow>
            </DataListItem>
          ))}
        </DataList>
        <Button
          variant="link"
          onClick={() => {
            setDrawerOpen(false);
            navigate('tasks');
          }}
        >
          {t('shell:tasks.history')}
        </Button>
      </DrawerPanelBody>
    </DrawerPanelContent>
  );
}
