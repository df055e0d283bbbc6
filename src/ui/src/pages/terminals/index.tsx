// The terminals page (to be built).
import { PageSection, Title } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { PageProps } from '../../app/pages';

export default function Page(_p: PageProps) {
  const { t } = useTranslation('terminals');
  return (
    <PageSection>
      <Title headingLevel="h1">{t('title')}</Title>
    </PageSection>
  );
}
