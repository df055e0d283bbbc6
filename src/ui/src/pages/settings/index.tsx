// Settings: administrators, the metrics scrape token, the configuration
// (read-only) and what this appliance is, as tabs.
import { PageSection, Tab, Tabs, TabTitleText, Title } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { PageProps } from '../../app/pages';
import { About } from './About';
import { Admins } from './Admins';
import { Config } from './Config';
import { Metrics } from './Metrics';

export default function Page(_p: PageProps) {
  const { t } = useTranslation('settings');
  const [tab, setTab] = useState<string | number>('admins');
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
      </PageSection>
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k)} aria-label={t('title')} mountOnEnter unmountOnExit>
          <Tab eventKey="admins" title={<TabTitleText>{t('admins.title')}</TabTitleText>} data-testid="settings-tab-admins">
            <Admins />
          </Tab>
          <Tab eventKey="metrics" title={<TabTitleText>{t('metrics.title')}</TabTitleText>} data-testid="settings-tab-metrics">
            <div style={{ paddingTop: 'var(--pf-t--global--spacer--md)' }}>
              <Metrics />
            </div>
          </Tab>
          <Tab eventKey="config" title={<TabTitleText>{t('config.title')}</TabTitleText>} data-testid="settings-tab-config">
            <div style={{ paddingTop: 'var(--pf-t--global--spacer--md)' }}>
              <Config />
            </div>
          </Tab>
          <Tab eventKey="about" title={<TabTitleText>{t('about.title')}</TabTitleText>} data-testid="settings-tab-about">
            <div style={{ paddingTop: 'var(--pf-t--global--spacer--md)' }}>
              <About />
            </div>
          </Tab>
        </Tabs>
      </PageSection>
    </>
  );
}
