// A personal group's page: its name and labels, power for every desktop
// (confirmed), edit, add desktops, delete, its settings and its desktops.
import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Flex,
  FlexItem,
  Label,
  PageSection,
  Title,
} from '@patternfly/react-core';
import { ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll } from '../../api';
import { href, navigate } from '../../app/router';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { fmtDate, fmtGB } from '../../i18n';
import { AddModal } from './AddModal';
import { DeleteGroup } from './DeleteGroup';
import { Desktops } from './Desktops';
import { EditModal } from './EditModal';
import { GroupLabels } from './labels';
import { getGroup, GroupVerb, loadUserGroups, PERSONAL } from './model';

type Dialog = GroupVerb | 'edit' | 'add' | 'delete' | null;

export function Detail({ uuid }: { uuid: string }) {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const { runTask } = useTasks();
  const { data: g, error, reload } = useLoad((s) => getGroup(uuid, s), [uuid], 5000);
  const userGroups = useLoad(() => loadUserGroups(), []);
  const pools = useLoad(() => listAll<{ uuid: string; name: string }>('resource_pool'), []);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [desktopsKey, setDesktopsKey] = useState(0);

  if (!g) {
    return (
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem to={href('personal')}>{t('title')}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1">{t('title')}</Title>
        <ErrorAlert error={error} />
      </PageSection>
    );
  }
  const ready = g.state === 'ready';
  const btn = (key: string, label: string, onClick: () => void, variant: 'primary' | 'secondary' | 'tertiary' | 'danger' = 'secondary', disabled = false) => (
    <FlexItem key={key}>
      <Button variant={variant} onClick={onClick} isDisabled={disabled} data-testid={`personal-${key}`}>
        {label}
      </Button>
    </FlexItem>
  );
  const row = (term: string, value: ReactNode) => (
    <DescriptionListGroup key={term}>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{value}</DescriptionListDescription>
    </DescriptionListGroup>
  );
  const ugNames = g.groups.map((u) => userGroups.data?.find((x) => x.uuid === u)?.name || u.slice(0, 8));
  const changed = () => {
    reload();
    setDesktopsKey((x) => x + 1);
  };
  const power = dialog === 'start' || dialog === 'stop' || dialog === 'reboot' ? dialog : null;
  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem to={href('personal')}>{t('title')}</BreadcrumbItem>
          <BreadcrumbItem isActive>{g.name}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1" data-testid="personal-detail-name">
          {g.name}{' '}
          <Label color={g.desktop_type === 2 ? 'purple' : 'teal'} data-testid="personal-type">
            {t(`type.${g.desktop_type === 2 ? 2 : 1}`)}
          </Label>{' '}
          <GroupLabels group={g} />
        </Title>
        <Flex spaceItems={{ default: 'spaceItemsSm' }} style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
          {btn('start-all', t('power.startAll'), () => setDialog('start'), 'primary', !ready)}
          {btn('stop-all', t('power.stopAll'), () => setDialog('stop'), 'secondary', !ready)}
          {btn('reboot-all', t('power.rebootAll'), () => setDialog('reboot'), 'secondary', !ready)}
          {btn('edit', t('common:edit'), () => setDialog('edit'), 'tertiary')}
          {btn('add', t('add.button'), () => setDialog('add'), 'tertiary', !ready)}
          {btn('delete', t('common:delete'), () => setDialog('delete'), 'danger', g.state === 'deleting')}
        </Flex>
      </PageSection>
      <PageSection>
        <Card isPlain>
          <CardTitle>
            <Title headingLevel="h2" size="lg">
              {t('common:details')}
            </Title>
          </CardTitle>
          <CardBody>
            <DescriptionList isHorizontal isCompact columnModifier={{ default: '1Col', lg: '3Col' }}>
              {row(t('field.template'), g.template_name || '—')}
              {row(t('field.userGroups'), ugNames.length ? ugNames.join(', ') : '—')}
              {row(t('field.desktops'), t('runningOf', { running: g.active_count, total: g.total_count }))}
              {row(t('field.hardware'), t('hardware', { vcpu: g.vcpu, ram: fmtGB(g.ram) }))}
              {row(t('field.naming'), t('naming', { prefix: g.prefix, digits: g.postfix, start: g.postfix_start }))}
              {row(t('field.sysRestore'), g.sys_restore ? t('common:yes') : t('common:no'))}
              {row(t('field.dataRestore'), t(`dataRestore.${g.data_restore}`, { defaultValue: String(g.data_restore) }))}
              {row(t('field.pool'), pools.data?.find((p) => p.uuid === g.pool_uuid)?.name || '—')}
              {row(t('field.maintenance'), g.maintenance ? t('common:yes') : t('common:no'))}
              {row(t('common:created'), fmtDate(g.created_at))}
            </DescriptionList>
          </CardBody>
        </Card>
      </PageSection>
      <PageSection>
        <Title headingLevel="h2" size="lg">
          {t('desktops.title')}
        </Title>
        <Desktops group={g} reloadKey={desktopsKey} onChanged={reload} />
      </PageSection>
      {power && (
        <ConfirmModal
          title={t(`power.confirmTitle.${power}`, { name: g.name })}
          body={t(`power.confirmBody.${power}`, { name: g.name, count: g.total_count })}
          confirmLabel={t(`power.${power}All`)}
          danger={power !== 'start'}
          onConfirm={async () => {
            const task = await runTask(t(`power.task.${power}`, { name: g.name }), 'POST', `${PERSONAL}${power}`, { uuid: g.uuid, name: g.name });
            const r = task.result as { success_num?: number; failed_num?: number; failed?: string[] } | null;
            if (r && r.failed_num)
              notify(
                'warning',
                t('power.partial', { ok: r.success_num ?? 0, failed: r.failed_num }),
                <ul>
                  {(r.failed || []).map((f, i) => (
                    <li key={i}>{f}</li>
                  ))}
                </ul>,
              );
            else notify('success', t(`power.done.${power}`, { name: g.name }));
          }}
          onClose={(done) => {
            setDialog(null);
            if (done) changed();
          }}
        />
      )}
      {dialog === 'edit' && (
        <EditModal
          group={g}
          onClose={(done) => {
            setDialog(null);
            if (done) reload();
          }}
        />
      )}
      {dialog === 'add' && (
        <AddModal
          group={g}
          onClose={(done) => {
            setDialog(null);
            if (done) changed();
          }}
        />
      )}
      {dialog === 'delete' && (
        <DeleteGroup
          group={g}
          onClose={(done) => {
            setDialog(null);
            if (done) navigate('personal');
          }}
        />
      )}
    </>
  );
}
