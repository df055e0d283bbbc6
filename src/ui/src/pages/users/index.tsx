// The users and groups page: users (of a chosen user group) and user groups, as tabs.
import { PageSection, Tab, Tabs, TabTitleText, Title } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { PageProps } from '../../app/pages';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { Groups } from './Groups';
import { loadUserGroups } from './types';
import { Users } from './Users';

export default function Page(_p: PageProps) {
  const { t } = useTranslation('users');
  const [tab, setTab] = useState<string | number>('users');
  const [group, setGroup] = useState('');
  const groups = useLoad(() => loadUserGroups(), []);
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
      </PageSection>
      <PageSection>
        <ErrorAlert error={groups.error} />
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k)} aria-label={t('title')} mountOnEnter unmountOnExit>
          <Tab eventKey="users" title={<TabTitleText>{t('users.title')}</TabTitleText>} data-testid="users-tab-users">
            <Users groups={groups.data || []} group={group} setGroup={setGroup} onChanged={groups.reload} />
          </Tab>
          <Tab eventKey="groups" title={<TabTitleText>{t('groups.title')}</TabTitleText>} data-testid="users-tab-groups">
            <Groups
              onChanged={groups.reload}
              onShowUsers={(g) => {
                setGroup(g.uuid);
                setTab('users');
              }}
            />
          </Tab>
        </Tabs>
      </PageSection>
    </>
  );
}
