// The service's configuration, read-only: every key with its value, its
// default and what it means (GET /api/v1/system/config).
import { Label } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useTranslation } from 'react-i18next';
import { get } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { show } from '../../components/ListView';

interface ConfigKey {
  key: string;
  value: unknown;
  default: unknown;
  meaning: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function Config() {
  const { t } = useTranslation('settings');
  const { data, error, loading } = useLoad((s) => get<{ keys: ConfigKey[] }>('/api/v1/system/config', s), []);
  return (
    <>
      <p className="vdi-muted">{t('config.intro')}</p>
      <ErrorAlert error={error} />
      {!error && (
        <Table aria-label={t('config.title')} variant="compact" isStriped data-testid="config-list">
          <Thead>
            <Tr>
              <Th width={20}>{t('config.key')}</Th>
              <Th width={15}>{t('config.value')}</Th>
              <Th width={15}>{t('config.default')}</Th>
              <Th>{t('config.meaning')}</Th>
            </Tr>
          </Thead>
          <Tbody>
            {(data?.keys || []).map((k) => (
              <Tr key={k.key}>
                <Td dataLabel={t('config.key')}>
                  <code>{k.key}</code>
                </Td>
                <Td dataLabel={t('config.value')}>
                  {show(k.value)} {!same(k.value, k.default) && <Label isCompact color="orange">{t('config.changed')}</Label>}
                </Td>
                <Td dataLabel={t('config.default')}>{show(k.default)}</Td>
                <Td dataLabel={t('config.meaning')}>{k.meaning}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      )}
      {loading && !data && !error && <p>{t('common:loading')}</p>}
    </>
  );
}
