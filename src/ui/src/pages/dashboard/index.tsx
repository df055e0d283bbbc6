// The dashboard: servers up and down, desktops by state, terminals seen in
// the last hour, running tasks; top-5 servers by CPU, memory, disk and NIC;
// one server's history charts; over-commit per server and storage per
// role; the last operations. Refreshes itself every 10 seconds.
import {
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  FormSelect,
  FormSelectOption,
  Gallery,
  Grid,
  GridItem,
  Label,
  PageSection,
  Progress,
  ProgressMeasureLocation,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, list, post } from '../../api';
import { PageProps } from '../../app/pages';
import { href } from '../../app/router';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { fmtAgo, fmtBytes, fmtNumber, fmtPercent } from '../../i18n';
import { Chart, Series } from './Chart';

interface Alloc {
  physical: number;
  allocated: number;
  running: number;
  ratio: number;
}
interface NodeRow {
  uuid: string;
  name: string;
  ip: string;
  role: string;
  status: 'up' | 'down';
  desktops: number;
  desktops_running: number;
  cpu: Alloc;
  memory: Alloc;
}
interface Overview {
  nodes: { total: number; up: number; down: number; list: NodeRow[] };
  desktops: { total: number; by_state: Record<string, number> };
  cpu: Alloc;
  memory: Alloc;
  storage: { role: number; describe: string; storages: number; total_bytes: number; used_bytes: number }[];
  terminals: { total: number; seen_last_hour: number };
  tasks: { running: number; queued: number };
}
interface Top {
  cpu_util: [string, number][];
  memory_util: [string, number][];
  disk_util: [string, number, number, number][];
  nic_util: [string, number, number][];
}
interface History {
  points: [number, number | null, number | null][];
  unit: string;
}
interface LogRow {
  id: number;
  created_at: string;
  owner: string;
  action: string;
  target: string;
  result: string;
  msg: string;
}

const METRICS = ['cpu', 'memory', 'disk', 'load1', 'nic_up', 'nic_down', 'disk_read', 'disk_write'] as const;

export default function Dashboard(_p: PageProps) {
  const { t } = useTranslation('dashboard');
  const overview = useLoad((signal) => get<Overview>('/api/v1.0/monitor/overview', signal), [], 10_000);
  const top = useLoad(() => post<Top>('/api/v1/index/top_data', { statis_period: 30 }), [], 10_000);
  const ops = useLoad((signal) => list<LogRow>('operation_log', { page: 1, pageSize: 8, filters: { ordering: '-id' } }, signal), [], 10_000);
  const nodes = overview.data?.nodes.list || [];
  const [node, setNode] = useState('');
  const [metric, setMetric] = useState<(typeof METRICS)[number]>('cpu');
  const chosen = node || nodes[0]?.uuid || '';
  const history = useLoad(
    (signal) => (chosen ? get<History>(`/api/v1.0/monitor/?node_uuid=${encodeURIComponent(chosen)}&metric=${metric}`, signal) : Promise.resolve(null)),
    [chosen, metric],
    30_000,
  );
  const series: Series | null = useMemo(() => {
    const h = history.data;
    if (!h) return null;
    const format = h.unit === 'percent' ? (v: number) => fmtPercent(v) : h.unit === 'load' ? (v: number) => fmtNumber(v, 2) : h.unit === 'bytes/s' ? (v: number) => `${fmtBytes(v)}/s` : (v: number) => fmtBytes(v);
    return { label: t(`metric.${metric}`), points: h.points, format };
  }, [history.data, metric, t]);

  const o = overview.data;
  const ready = !!o && !!top.data && !!ops.data;
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
      </PageSection>
      <PageSection data-testid={ready ? 'dashboard-ready' : 'dashboard-loading'}>
        <ErrorAlert error={overview.error || top.error || ops.error} />
        {o && (
          <Gallery hasGutter minWidths={{ default: '220px' }}>
            <Card isCompact>
              <CardTitle>{t('servers')}</CardTitle>
              <CardBody>
                <Title headingLevel="h2" size="2xl">
                  {fmtNumber(o.nodes.total)}
                </Title>
                <Label color="green">{t('up', { count: o.nodes.up })}</Label> {o.nodes.down > 0 && <Label color="red">{t('down', { count: o.nodes.down })}</Label>}
              </CardBody>
            </Card>
            <Card isCompact>
              <CardTitle>{t('desktops')}</CardTitle>
              <CardBody>
                <Title headingLevel="h2" size="2xl">
                  {fmtNumber(o.desktops.total)}
                </Title>
                {Object.entries(o.desktops.by_state).map(([state, n]) => (
                  <Label key={state} isCompact className="pf-v6-u-mr-xs">
                    {t(`state.${state}`, { defaultValue: state })}: {fmtNumber(n)}
                  </Label>
                ))}
              </CardBody>
            </Card>
            <Card isCompact>
              <CardTitle>{t('terminals')}</CardTitle>
              <CardBody>
                <Title headingLevel="h2" size="2xl">
                  {fmtNumber(o.terminals.seen_last_hour)}
                </Title>
                {t('terminalsSeen', { total: o.terminals.total })}
              </CardBody>
            </Card>
            <Card isCompact>
              <CardTitle>{t('tasks')}</CardTitle>
              <CardBody>
                <Title headingLevel="h2" size="2xl">
                  {fmtNumber(o.tasks.running)}
                </Title>
                {t('tasksQueued', { count: o.tasks.queued })}
              </CardBody>
            </Card>
          </Gallery>
        )}
      </PageSection>
      <PageSection>
        <Grid hasGutter>
          {top.data &&
            (['cpu_util', 'memory_util', 'disk_util', 'nic_util'] as const).map((k) => (
              <GridItem key={k} md={6} xl={3}>
                <Card isCompact isFullHeight>
                  <CardTitle>{t(`top.${k}`)}</CardTitle>
                  <CardBody>
                    {top.data![k].length === 0 && <span className="vdi-muted">{t('noReports')}</span>}
                    {top.data![k].map((row) => (
                      <Progress
                        key={row[0]}
                        title={row[0]}
                        value={k === 'nic_util' ? Math.min(100, Number(row[1])) : Number(row[1])}
                        label={k === 'nic_util' ? `${fmtBytes(Number(row[1]))}/s` : fmtPercent(Number(row[1]))}
                        valueText={k === 'nic_util' ? `${fmtBytes(Number(row[1]))}/s` : fmtPercent(Number(row[1]))}
                        measureLocation={ProgressMeasureLocation.outside}
                        size="sm"
                      />
                    ))}
                  </CardBody>
                </Card>
              </GridItem>
            ))}
          <GridItem lg={8}>
            <Card isFullHeight>
              <CardTitle>{t('history')}</CardTitle>
              <CardBody>
                <Grid hasGutter>
                  <GridItem span={6}>
                    <FormSelect value={chosen} onChange={(_e, v) => setNode(v)} aria-label={t('server')}>
                      {nodes.map((n) => (
                        <FormSelectOption key={n.uuid} value={n.uuid} label={`${n.name} (${n.ip})`} />
                      ))}
                    </FormSelect>
                  </GridItem>
                  <GridItem span={6}>
                    <FormSelect value={metric} onChange={(_e, v) => setMetric(v as (typeof METRICS)[number])} aria-label={t('metricLabel')}>
                      {METRICS.map((m) => (
                        <FormSelectOption key={m} value={m} label={t(`metric.${m}`)} />
                      ))}
                    </FormSelect>
                  </GridItem>
                </Grid>
                <ErrorAlert error={history.error} />
                {series && series.points.length > 0 && <Chart series={series} ariaLabel={t('chartOf', { metric: series.label })} avgLabel={t('avg')} maxLabel={t('max')} />}
                {series && series.points.length === 0 && <p className="vdi-muted">{t('noHistory')}</p>}
              </CardBody>
            </Card>
          </GridItem>
          <GridItem lg={4}>
            <Card isFullHeight>
              <CardTitle>{t('storage')}</CardTitle>
              <CardBody>
                {o?.storage.map((s) => (
                  <Progress
                    key={s.role}
                    title={t(`role.${s.role}`)}
                    value={s.total_bytes ? (100 * s.used_bytes) / s.total_bytes : 0}
                    label={t('usedOf', { used: fmtBytes(s.used_bytes), total: fmtBytes(s.total_bytes) })}
                    measureLocation={ProgressMeasureLocation.outside}
                    size="sm"
                  />
                ))}
              </CardBody>
            </Card>
          </GridItem>
          <GridItem lg={7}>
            <Card isFullHeight>
              <CardTitle>{t('overcommit')}</CardTitle>
              <CardBody>
                <Table aria-label={t('overcommit')} variant="compact">
                  <Thead>
                    <Tr>
                      <Th>{t('server')}</Th>
                      <Th>{t('status')}</Th>
                      <Th>{t('vcpu')}</Th>
                      <Th>{t('memory')}</Th>
                      <Th>{t('desktops')}</Th>
                    </Tr>
                  </Thead>
                  <Tbody>
                    {nodes.map((n) => (
                      <Tr key={n.uuid}>
                        <Td dataLabel={t('server')}>
                          <a href={href(`servers/${n.uuid}`)}>{n.name}</a>
                        </Td>
                        <Td dataLabel={t('status')}>
                          <Label color={n.status === 'up' ? 'green' : 'red'}>{t(`node.${n.status}`)}</Label>
                        </Td>
                        <Td dataLabel={t('vcpu')}>{t('ratio', { allocated: fmtNumber(n.cpu.allocated), physical: fmtNumber(n.cpu.physical), ratio: fmtNumber(n.cpu.ratio, 2) })}</Td>
                        <Td dataLabel={t('memory')}>{t('ratio', { allocated: fmtBytes(n.memory.allocated), physical: fmtBytes(n.memory.physical), ratio: fmtNumber(n.memory.ratio, 2) })}</Td>
                        <Td dataLabel={t('desktops')}>{t('running', { running: fmtNumber(n.desktops_running), total: fmtNumber(n.desktops) })}</Td>
                      </Tr>
                    ))}
                  </Tbody>
                </Table>
              </CardBody>
            </Card>
          </GridItem>
          <GridItem lg={5}>
            <Card isFullHeight>
              <CardTitle>{t('lastOps')}</CardTitle>
              <CardBody>
                <DescriptionList isCompact isHorizontal>
                  {(ops.data?.results || []).map((r) => (
                    <DescriptionListGroup key={r.id}>
                      <DescriptionListTerm>{fmtAgo(r.created_at)}</DescriptionListTerm>
                      <DescriptionListDescription>
                        <Label isCompact color={r.result === 'success' ? 'green' : 'red'}>
                          {t(`result.${r.result}`)}
                        </Label>{' '}
                        {r.owner} · {r.action} · {r.target}
                      </DescriptionListDescription>
                    </DescriptionListGroup>
                  ))}
                </DescriptionList>
                <a href={href('oplog')}>{t('allOps')}</a>
              </CardBody>
            </Card>
          </GridItem>
        </Grid>
      </PageSection>
    </>
  );
}
