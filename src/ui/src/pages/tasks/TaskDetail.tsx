// One task in a modal: its facts, live progress while it runs, the error,
// the result's fields and the whole log (refreshed every 2 s until it ends).
import { Alert, Button, CodeBlock, CodeBlockCode, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Modal, ModalBody, ModalFooter, ModalHeader, Title } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { get, Task, taskDone } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { TaskProgress } from '../../components/TaskDrawer';
import { fmtDate } from '../../i18n';
import { StateLabel, kindName } from './labels';
import { ResultView } from './Values';

export function TaskDetail({ task, onClose }: { task: Task; onClose: () => void }) {
  const { t } = useTranslation('tasks');
  const live = !taskDone(task);
  const { data, error } = useLoad((s) => get<Task>(`/api/v1/task/${encodeURIComponent(task.uuid)}`, s), [task.uuid], live ? 2000 : undefined);
  const x = data || task;
  const hasResult = x.result !== null && x.result !== undefined && !(typeof x.result === 'object' && Object.keys(x.result as object).length === 0);
  return (
    <Modal variant="large" isOpen onClose={onClose} aria-labelledby="task-detail-title" data-testid="task-detail">
      <ModalHeader title={t('detail.title', { kind: kindName(t, x.kind), target: x.target })} labelId="task-detail-title" />
      <ModalBody>
        <ErrorAlert error={error} />
        <DescriptionList isCompact isHorizontal columnModifier={{ default: '2Col' }}>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('col.state')}</DescriptionListTerm>
            <DescriptionListDescription>
              <StateLabel state={x.state} />
            </DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('col.owner')}</DescriptionListTerm>
            <DescriptionListDescription>{x.owner || '—'}</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('col.created')}</DescriptionListTerm>
            <DescriptionListDescription>{fmtDate(x.created_at)}</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('col.started')}</DescriptionListTerm>
            <DescriptionListDescription>{fmtDate(x.started_at)}</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('col.finished')}</DescriptionListTerm>
            <DescriptionListDescription>{fmtDate(x.finished_at)}</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('col.id')}</DescriptionListTerm>
            <DescriptionListDescription>{x.uuid}</DescriptionListDescription>
          </DescriptionListGroup>
        </DescriptionList>
        {!taskDone(x) && (
          <div style={{ margin: 'var(--pf-t--global--spacer--md) 0' }} data-testid="task-progress">
            <TaskProgress task={x} />
          </div>
        )}
        {x.error && (
          <Alert variant="danger" isInline title={t('detail.error')} data-testid="task-error" style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
            {x.error}
          </Alert>
        )}
        {hasResult && (
          <>
            <Title headingLevel="h3" size="md" style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
              {t('detail.result')}
            </Title>
            <ResultView result={x.result} />
          </>
        )}
        <Title headingLevel="h3" size="md" style={{ margin: 'var(--pf-t--global--spacer--md) 0 var(--pf-t--global--spacer--sm)' }}>
          {t('detail.log', { count: x.log?.length || 0 })}
        </Title>
        {x.log?.length ? (
          <CodeBlock data-testid="task-log">
            <CodeBlockCode>{x.log.join('\n')}</CodeBlockCode>
          </CodeBlock>
        ) : (
          <p className="vdi-muted">{t('detail.noLog')}</p>
        )}
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" onClick={onClose}>
          {t('common:close')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
