// About this appliance: version, uptime, the store's state and whether
// libvirt answers (GET /api/v1/health).
import { DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Label } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { get } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { fmtNumber } from '../../i18n';

interface Health {
  version: string;
  uptime_s: number;
  state: string;
  store: { ok: boolean; schema_version: number };
  libvirt: { reachable: boolean | null; error?: string; checked_s_ago: number | null };
  role: string;
  controller: string | null;
}

export function About() {
  const { t } = useTranslation('settings');
  const { data: h, error } = useLoad((s) => get<Health>('/api/v1/health', s), [], 10000);
  const up = (s: number) => {
    const d = Math.floor(s / 86400);
    const hh = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    return t('about.uptimeValue', { d: fmtNumber(d), h: fmtNumber(hh), m: fmtNumber(m) });
  };
  const lv = h?.libvirt;
  return (
    <>
      <ErrorAlert error={error} />
      {h && (
        <DescriptionList isHorizontal data-testid="about">
          <DescriptionListGroup>
            <DescriptionListTerm>{t('about.version')}</DescriptionListTerm>
            <DescriptionListDescription>{h.version}</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('about.uptime')}</DescriptionListTerm>
            <DescriptionListDescription>{up(h.uptime_s)}</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('about.role')}</DescriptionListTerm>
            <DescriptionListDescription>{t(`about.roles.${h.role}`, { defaultValue: h.role })}</DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('about.service')}</DescriptionListTerm>
            <DescriptionListDescription>
              <Label color={h.state === 'running' ? 'green' : 'orange'}>{t(`about.states.${h.state}`, { defaultValue: h.state })}</Label>
            </DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('about.store')}</DescriptionListTerm>
            <DescriptionListDescription>
              <Label color={h.store.ok ? 'green' : 'red'}>{h.store.ok ? t('about.storeOk') : t('about.storeBad')}</Label>{' '}
              <span className="vdi-muted">{t('about.schema', { n: h.store.schema_version })}</span>
            </DescriptionListDescription>
          </DescriptionListGroup>
          <DescriptionListGroup>
            <DescriptionListTerm>{t('about.libvirt')}</DescriptionListTerm>
            <DescriptionListDescription>
              {lv?.reachable === true && <Label color="green">{t('about.reachable')}</Label>}
              {lv?.reachable === false && <Label color="red">{t('about.unreachable')}</Label>}
              {(lv?.reachable === null || lv?.reachable === undefined) && <Label color="grey">{t('about.notChecked')}</Label>}{' '}
              {lv?.checked_s_ago !== null && lv?.checked_s_ago !== undefined && <span className="vdi-muted">{t('about.checked', { s: fmtNumber(lv.checked_s_ago) })}</span>}
              {lv?.error && <div className="vdi-muted">{lv.error}</div>}
            </DescriptionListDescription>
          </DescriptionListGroup>
          {h.controller && (
            <DescriptionListGroup>
              <DescriptionListTerm>{t('about.controller')}</DescriptionListTerm>
              <DescriptionListDescription>{h.controller}</DescriptionListDescription>
            </DescriptionListGroup>
          )}
        </DescriptionList>
      )}
    </>
  );
}
