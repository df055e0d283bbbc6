// The personal desktop groups: name (to its detail), random or static,
// template, user groups, desktops (running / all), state; the create form;
// power and delete per row.
import { Button, Label, LabelGroup, PageSection, Title, ToolbarItem } from '@patternfly/react-core';
import PlusIcon from '@patternfly/react-icons/dist/esm/icons/plus-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { href, navigate } from '../../app/router';
import { errorText } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { CreateModal } from './CreateModal';
import { DeleteGroup } from './DeleteGroup';
import { GROUPS, GroupVerb, loadUserGroups, PERSONAL, PERSONAL_FILTER, PersonalGroup } from './model';
import { GroupLabels } from './labels';

export function GroupList() {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const { runTask } = useTasks();
  const [creating, setCreating] = useState(false);
  const [reload, setReload] = useState(0);
  const [del, setDel] = useState<PersonalGroup | null>(null);
  const userGroups = useLoad(() => loadUserGroups(), []);
  const ugName = (u: string) => userGroups.data?.find((g) => g.uuid === u)?.name || u.slice(0, 8);
  const power = (g: PersonalGroup, verb: GroupVerb) => runTask(t(`power.task.${verb}`, { name: g.name }), 'POST', `${PERSONAL}${verb}`, { uuid: g.uuid, name: g.name });
  const doPower = async (g: PersonalGroup, verb: GroupVerb) => {
    try {
      await power(g, verb);
      notify('success', t(`power.done.${verb}`, { name: g.name }));
    } catch (e) {
      notify('danger', t('power.failed', { name: g.name }), errorText(e));
    }
    setReload((x) => x + 1);
  };
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <ListView<PersonalGroup>
          resource={GROUPS}
          filters={PERSONAL_FILTER}
          ariaLabel={t('title')}
          testId="personal-list"
          rowName={(r) => r.name}
          searchFields={[
            { field: 'name', label: t('common:name') },
            { field: 'template_name', label: t('field.template') },
          ]}
          reloadKey={reload}
          refreshMs={8000}
          emptyText={t('empty')}
          toolbar={
            <ToolbarItem>
              <Button icon={<PlusIcon />} onClick={() => setCreating(true)} data-testid="personal-create">
                {t('create.button')}
              </Button>
            </ToolbarItem>
          }
          columns={[
            { key: 'name', title: t('common:name'), render: (r) => <a href={href(`personal/${r.uuid}`)}>{r.name}</a> },
            { key: 'desktop_type', title: t('field.type'), render: (r) => <Label color={r.desktop_type === 2 ? 'purple' : 'teal'}>{t(`type.${r.desktop_type === 2 ? 2 : 1}`)}</Label> },
            { key: 'template_name', title: t('field.template'), render: (r) => r.template_name || '—' },
            {
              key: 'groups',
              title: t('field.userGroups'),
              render: (r) =>
                r.groups.length ? (
                  <LabelGroup numLabels={3} expandedText={t('labels.less')} collapsedText={t('labels.more', { count: r.groups.length - 3 })}>
                    {r.groups.map((u) => (
                      <Label key={u} isCompact>
                        {ugName(u)}
                      </Label>
                    ))}
                  </LabelGroup>
                ) : (
                  '—'
                ),
            },
            { key: 'total_count', title: t('field.desktops'), render: (r) => t('runningOf', { running: r.active_count, total: r.total_count }) },
            { key: 'state', title: t('common:state'), render: (r) => <GroupLabels group={r} /> },
          ]}
          rowActions={(r) => [
            { title: t('common:details'), onClick: () => navigate(`personal/${r.uuid}`) },
            { title: t('power.start'), onClick: () => void doPower(r, 'start') },
            { title: t('power.stop'), onClick: () => void doPower(r, 'stop') },
            { title: t('power.reboot'), onClick: () => void doPower(r, 'reboot') },
            { isSeparator: true },
            { title: t('common:delete'), onClick: () => setDel(r), isDanger: true },
          ]}
          bulkActions={[
            { label: t('power.startAll'), run: (r) => power(r, 'start') },
            { label: t('power.stopAll'), run: (r) => power(r, 'stop') },
          ]}
        />
      </PageSection>
      {creating && (
        <CreateModal
          onClose={() => {
            setCreating(false);
            setReload((x) => x + 1);
          }}
        />
      )}
      {del && (
        <DeleteGroup
          group={del}
          onClose={(done) => {
            setDel(null);
            if (done) setReload((x) => x + 1);
          }}
        />
      )}
    </>
  );
}
