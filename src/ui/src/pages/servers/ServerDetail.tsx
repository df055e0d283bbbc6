// One server: its state and actions, and tabs for the overview with the
// hardware inventory, NICs (with link state for this host), bonds and
// storage roles with usage.
import { Breadcrumb, BreadcrumbItem, Button, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Flex, FlexItem, PageSection, Progress, ProgressMeasureLocation, ProgressSize, Tab, Tabs, TabTitleText, Title } from '@patternfly/react-core';
import { ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, list } from '../../api';
import { href, navigate } from '../../app/router';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { ListView } from '../../components/ListView';
import { fmtAgo, fmtBytes, fmtGB, fmtNumber } from '../../i18n';
import { Bonds } from '../network/Bonds';
import { NetConfirmProvider } from '../network/confirm';
import { Node } from '../network/types';
import { Action, NodeAction } from './actions';
import { CpuText, RoleText, StateLabel, useOverview, usePools } from './common';

interface Inventory {
  kernel?: string;
  os?: string;
  cpu?: { model?: string; virt_flag?: string };
  disks?: { name?: string; model?: string; size_bytes?: number; rotational?: boolean }[];
  gpus?: { name?: string; model?: string; vendor?: string }[];
}
interface Storage extends Record<string, unknown> {
  uuid: string;
  path: string;
  role: string;
  device: string;
  fs: string;
  type: string;
  total: number;
  used: number;
  free: number;
  usage: number;
}
interface Link {
  name: string;
  running: boolean;
  up: boolean;
  master: string | null;
}

function Items({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <DescriptionList isCompact isHorizontal columnModifier={{ default: '1Col', lg: '2Col' }}>
      {rows.map(([k, v]) => (
        <DescriptionListGroup key={k}>
          <DescriptionListTerm>{k}</DescriptionListTerm>
          <DescriptionListDescription>{v === '' || v === null || v === undefined ? '—' : v}</DescriptionListDescription>
        </DescriptionListGroup>
      ))}
    </DescriptionList>
  );
}

export function ServerDetail({ uuid }: { uuid: string }) {
  const { t } = useTranslation('servers');
  const [tab, setTab] = useState<string | number>('overview');
  const [act, setAct] = useState<Action | null>(null);
  const node = useLoad((s) => list<Node>('node', { page: 1, pageSize: 1, filters: { uuid } }, s).then((p) => p.results[0] || null), [uuid], 15000);
  const pools = usePools();
  const overview = useOverview(30000);
  const n = node.data;
  const links = useLoad(() => (n?.local ? get<{ links: Link[] }>('/api/v1/node/links').then((r) => r.links) : Promise.resolve([] as Link[])), [n?.local]);
  if (node.error) return <PageSection><ErrorAlert error={node.error} /></PageSection>;
  if (node.data === null) return <PageSection><Title headingLevel="h1">{t('notFound')}</Title><a href={href('servers')}>{t('backToList')}</a></PageSection>;
  if (!n) return <PageSection>{t('common:loading')}</PageSection>;
  const inv = (n.inventory || {}) as Inventory;
  const o = overview.data?.nodes.list.find((x) => x.uuid === n.uuid);
  const nicOf = (u: string) => n.nics.find((x) => x.uuid === u);
  const linkOf = (name: string) => links.data?.find((l) => l.name === name);
  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem to={href('servers')}>{t('title')}</BreadcrumbItem>
          <BreadcrumbItem isActive>{n.name}</BreadcrumbItem>
        </Breadcrumb>
        <Flex alignItems={{ default: 'alignItemsCenter' }} style={{ marginTop: '0.5rem' }}>
          <FlexItem>
            <Title headingLevel="h1">{n.name}</Title>
          </FlexItem>
          <FlexItem>
            <StateLabel status={n.status} />
          </FlexItem>
          <FlexItem align={{ default: 'alignRight' }}>
            <Button variant="secondary" onClick={() => setAct('reboot')} data-testid="server-reboot">{t('common:reboot')}</Button>{' '}
            <Button variant="secondary" onClick={() => setAct('shutdown')} data-testid="server-shutdown">{t('shutdown.button')}</Button>{' '}
            <Button variant="secondary" onClick={() => setAct('credential')} data-testid="server-credential">{t('credential.open')}</Button>{' '}
            <Button variant="danger" onClick={() => setAct('delete')} data-testid="server-delete">{t('common:delete')}</Button>
          </FlexItem>
        </Flex>
      </PageSection>
      <PageSection>
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k)} aria-label={t('detailTabs')} mountOnEnter>
          <Tab eventKey="overview" title={<TabTitleText>{t('tabs.overview')}</TabTitleText>}>
            <Title headingLevel="h2" size="lg" style={{ margin: '1rem 0' }}>{t('tabs.overview')}</Title>
            <Items
              rows={[
                [t('hostname'), n.hostname],
                [t('ip'), n.ip],
                [t('roleTitle'), <RoleText role={n.role} />],
                [t('pool'), pools.data?.find((p) => p.uuid === n.pool_uuid)?.name || '—'],
                [t('lastReport'), o ? (o.last_report === null ? t('noReport') : fmtAgo(typeof o.last_report === 'number' ? new Date(o.last_report * 1000).toISOString() : o.last_report)) : '—'],
                [t('desktops'), o ? t('desktopsRunning', { total: fmtNumber(o.desktops), running: fmtNumber(o.desktops_running) }) : '—'],
                [t('manageNic'), String(n.manage_interface || '')],
                [t('imageNic'), String(n.image_interface || '')],
                [t('dataNic'), String(n.data_interface || '')],
              ]}
            />
            <Title headingLevel="h2" size="lg" style={{ margin: '1.5rem 0 1rem' }}>{t('hardware')}</Title>
            <Items
              rows={[
                [t('cpuModel'), String(n.cpu_model || inv.cpu?.model || '')],
                [t('cpu'), <CpuText node={n} />],
                [t('virtFlag'), inv.cpu?.virt_flag || ''],
                [t('memory'), fmtGB(n.memory_gb as number)],
                [t('gpus'), inv.gpus?.length ? inv.gpus.map((g) => g.model || g.name || g.vendor).join(', ') : fmtNumber(n.gpu_count as number)],
                [t('disks'), inv.disks?.length ? inv.disks.map((d) => `${d.name || ''} ${d.model || ''} ${fmtBytes(d.size_bytes)}`.trim()).join(', ') : t('noDisks')],
                [t('os'), inv.os || ''],
                [t('kernel'), inv.kernel || ''],
              ]}
            />
          </Tab>
          <Tab eventKey="nics" title={<TabTitleText>{t('tabs.nics')}</TabTitleText>} data-testid="server-tab-nics">
            <ErrorAlert error={links.error} />
            <ListView<Record<string, unknown> & { uuid: string; interface: string; mac: string }>
              resource="node_nic"
              ariaLabel={t('nics.title')}
              testId="server-nics"
              filters={{ node_uuid: n.uuid }}
              rowName={(r) => r.interface}
              columns={[
                { key: 'interface', title: t('nics.name') },
                { key: 'mac', title: t('nics.mac') },
                { key: 'driver', title: t('nics.driver'), render: (r) => nicOf(r.uuid)?.driver || '—' },
                { key: 'speed', title: t('nics.speed'), render: (r) => (nicOf(r.uuid)?.speed ? t('nics.mbps', { n: nicOf(r.uuid)?.speed }) : '—') },
                { key: 'link', title: t('nics.link'), render: (r) => { const l = linkOf(r.interface); return l ? (l.running ? t('nics.up') : l.up ? t('nics.noCarrier') : t('nics.down')) + (l.master ? ` · ${t('nics.in', { master: l.master })}` : '') : t('nics.unknown'); } },
                { key: 'addresses', title: t('nics.addresses'), render: (r) => nicOf(r.uuid)?.ip_list.map((a) => `${a.ip} / ${a.netmask}`).join(', ') || '—' },
                { key: 'gateway', title: t('nics.gateway'), render: (r) => nicOf(r.uuid)?.gateway || '—' },
                { key: 'roles', title: t('nics.roles'), render: (r) => [nicOf(r.uuid)?.is_manage ? t('nics.manage') : '', nicOf(r.uuid)?.is_image ? t('nics.image') : '', n.data_interface === r.interface ? t('nics.data') : ''].filter(Boolean).join(', ') || '—' },
              ]}
            />
            {!n.local && <p className="vdi-muted">{t('nics.linkLocalOnly')}</p>}
          </Tab>
          <Tab eventKey="bonds" title={<TabTitleText>{t('tabs.bonds')}</TabTitleText>} data-testid="server-tab-bonds">
            <NetConfirmProvider>
              <Bonds nodeUuid={n.uuid} />
            </NetConfirmProvider>
          </Tab>
          <Tab eventKey="storage" title={<TabTitleText>{t('tabs.storage')}</TabTitleText>} data-testid="server-tab-storage">
            <ListView<Storage>
              resource="node_storage"
              ariaLabel={t('storage.title')}
              testId="server-storage"
              filters={{ node_uuid: n.uuid }}
              rowName={(r) => r.path}
              columns={[
                { key: 'path', title: t('storage.path') },
                { key: 'role', title: t('storage.roles'), render: (r) => r.role.split(',').filter(Boolean).map((x) => t(`storage.role${x.trim()}`, { defaultValue: x })).join(', ') || t('storage.noRole') },
                { key: 'device', title: t('storage.device'), render: (r) => `${r.device} (${r.fs}, ${r.type})` },
                {
                  key: 'usage',
                  title: t('storage.usage'),
                  render: (r) => (
                    <Progress
                      value={r.usage}
                      size={ProgressSize.sm}
                      measureLocation={ProgressMeasureLocation.outside}
                      label={t('storage.usedOf', { used: fmtBytes(r.used), total: fmtBytes(r.total), free: fmtBytes(r.free) })}
                      aria-label={t('storage.usageOf', { path: r.path })}
                      variant={r.usage >= 90 ? 'danger' : r.usage >= 75 ? 'warning' : undefined}
                      style={{ minWidth: '16rem' }}
                    />
                  ),
                },
              ]}
            />
          </Tab>
        </Tabs>
      </PageSection>
      {act && (
        <NodeAction
          node={n}
          action={act}
          onClose={(done) => {
            setAct(null);
            if (done && act === 'delete') navigate('servers');
            else if (done) node.reload();
          }}
        />
      )}
    </>
  );
}
