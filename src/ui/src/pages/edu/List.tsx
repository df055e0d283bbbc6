// The education desktop groups: name (to its detail), classroom, template,
// desktops, shown to terminals or not, default, state; a classroom filter;
// the create wizard.
import { Button, FormSelect, FormSelectOption, Label, PageSection, Title, ToolbarItem } from '@patternfly/react-core';
import PlusIcon from '@patternfly/react-icons/dist/esm/icons/plus-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll } from '../../api';
import { href, navigate } from '../../app/router';
import { errorText } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtDate, fmtNumber } from '../../i18n';
import { Classroom, EDUCATION as ROOMS, GROUPS as ROOM_LIST } from '../classrooms/model';
import { CreateWizard } from './CreateWizard';
import { DeleteGroup } from './Modals';
import { EDUCATION, EduGroup, GROUPS, makeActive, makeDefault, PHASE_COLOR } from './model';

export function GroupLabels({ g }: { g: EduGroup }) {
  const { t } = useTranslation('edu');
  return (
    <>
      <Label color={g.active ? 'green' : 'grey'} data-testid="edu-active-label">
        {t(g.active ? 'active' : 'inactive')}
      </Label>{' '}
      {g.default && (
        <Label color="blue" data-testid="edu-default-label">
          {t('default')}
        </Label>
      )}
    </>
  );
}

export function GroupList() {
  const { t } = useTranslation('edu');
  const notify = useNotify();
  const [creating, setCreating] = useState(false);
  const [reload, setReload] = useState(0);
  const [room, setRoom] = useState('');
  const [del, setDel] = useState<EduGroup | null>(null);
  const rooms = useLoad(() => listAll<Classroom>(ROOM_LIST, ROOMS), []);
  const act = async (fn: () => Promise<unknown>, done: string, failed: string) => {
    try {
      await fn();
      notify('success', done);
    } catch (e) {
      notify('danger', failed, errorText(e));
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
        <ListView<EduGroup>
          resource={GROUPS}
          filters={{ ...EDUCATION, group: room || undefined }}
          ariaLabel={t('title')}
          testId="edu-list"
          rowName={(r) => r.name}
          searchFields={[
            { field: 'name', label: t('common:name') },
            { field: 'template_name', label: t('col.template') },
          ]}
          reloadKey={reload}
          refreshMs={10000}
          emptyText={t('empty')}
          toolbar={
            <>
              <ToolbarItem>
                <FormSelect value={room} onChange={(_e, v) => setRoom(v)} aria-label={t('filterClassroom')} data-testid="edu-filter-classroom">
                  <FormSelectOption value="" label={t('allClassrooms')} />
                  {(rooms.data || []).map((r) => (
                    <FormSelectOption key={r.uuid} value={r.uuid} label={r.name} />
                  ))}
                </FormSelect>
              </ToolbarItem>
              <ToolbarItem>
                <Button icon={<PlusIcon />} onClick={() => setCreating(true)} data-testid="edu-create">
                  {t('create.button')}
                </Button>
              </ToolbarItem>
            </>
          }
          columns={[
            { key: 'name', title: t('common:name'), render: (r) => <a href={href(`edu/${r.uuid}`)}>{r.name}</a> },
            { key: 'group_name', title: t('col.classroom') },
            { key: 'template_name', title: t('col.template') },
            { key: 'total_count', title: t('col.desktops'), render: (r) => t('runningOf', { running: fmtNumber(r.active_count), total: fmtNumber(r.total_count) }) },
            { key: 'active', title: t('col.shown'), render: (r) => <GroupLabels g={r} /> },
            { key: 'state', title: t('common:state'), render: (r) => <Label color={PHASE_COLOR[r.state] || 'grey'}>{t(`phase.${r.state}`, { defaultValue: r.state })}</Label> },
            { key: 'created_at', title: t('common:created'), render: (r) => fmtDate(r.created_at) },
          ]}
          rowActions={(r) => [
            { title: t('common:details'), onClick: () => navigate(`edu/${r.uuid}`) },
            r.active
              ? { title: t('deactivate'), onClick: () => void act(() => makeActive(r, false), t('deactivated', { name: r.name }), t('failed', { name: r.name })) }
              : { title: t('activate'), onClick: () => void act(() => makeActive(r, true), t('activated', { name: r.name }), t('failed', { name: r.name })) },
            { title: t('makeDefault'), isDisabled: r.default, onClick: () => void act(() => makeDefault(r), t('madeDefault', { name: r.name }), t('failed', { name: r.name })) },
            { isSeparator: true },
            { title: t('common:delete'), onClick: () => setDel(r), isDanger: true },
          ]}
        />
      </PageSection>
      {creating && (
        <CreateWizard
          onClose={(uuid) => {
            setCreating(false);
            setReload((x) => x + 1);
            if (uuid) navigate(`edu/${uuid}`);
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
