// The network page: tabs for virtual switches, networks, subnets and bonds,
// under one safe-apply confirm window.
import { PageSection, Tab, Tabs, TabTitleText, Title } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { PageProps } from '../../app/pages';
import { Bonds } from './Bonds';
import { NetConfirmProvider } from './confirm';
import { Networks } from './Networks';
import { Subnets } from './Subnets';
import { Switches } from './Switches';

export default function Page(_p: PageProps) {
  const { t } = useTranslation('network');
  const [tab, setTab] = useState<string | number>('switches');
  return (
    <NetConfirmProvider section>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k)} aria-label={t('title')} mountOnEnter unmountOnExit>
          <Tab eventKey="switches" title={<TabTitleText>{t('tabs.switches')}</TabTitleText>} data-testid="network-tab-switches">
            <Switches />
          </Tab>
          <Tab eventKey="networks" title={<TabTitleText>{t('tabs.networks')}</TabTitleText>} data-testid="network-tab-networks">
            <Networks />
          </Tab>
          <Tab eventKey="subnets" title={<TabTitleText>{t('tabs.subnets')}</TabTitleText>} data-testid="network-tab-subnets">
            <Subnets />
          </Tab>
          <Tab eventKey="bonds" title={<TabTitleText>{t('tabs.bonds')}</TabTitleText>} data-testid="network-tab-bonds">
            <Bonds />
          </Tab>
        </Tabs>
      </PageSection>
    </NetConfirmProvider>
  );
}
