// The servers page: the listing at #/servers, one server at #/servers/<uuid>.
import { PageSection, Title } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { PageProps } from '../../app/pages';
import { ServerDetail } from './ServerDetail';
import { ServerList } from './ServerList';

export default function Page({ rest }: PageProps) {
  const { t } = useTranslation('servers');
  if (rest[0]) return <ServerDetail uuid={rest[0]} />;
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <ServerList />
      </PageSection>
    </>
  );
}
