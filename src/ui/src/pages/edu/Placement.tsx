// Where new desktops go: automatically (the servers with most free memory
// first) or a count per server of the pool, each shown with its memory
// allocation from the monitor's overview.
import { Alert, FormGroup, Label, NumberInput, Radio } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useTranslation } from 'react-i18next';
import { get, listAll } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { fmtBytes, fmtNumber } from '../../i18n';

interface NodeRow {
  uuid: string;
  name: string;
  ip: string;
  status: string;
  is_compute: boolean;
  memory_gb: number;
}
interface Alloc {
  physical: number;
  allocated: number;
  running: number;
}
interface OverviewNode {
  uuid: string;
  status: string;
  desktops: number;
  desktops_running: number;
  memory: Alloc;
}

/** `null` places automatically; otherwise node address → count. */
export type PlacementValue = Record<string, number> | null;

export const placedCount = (v: PlacementValue) => (v ? Object.values(v).reduce((a, b) => a + b, 0) : 0);

/** The `create_info` to send (absent for automatic placement). */
export const createInfo = (v: PlacementValue) => (v ? Object.fromEntries(Object.entries(v).filter(([, n]) => n > 0)) : undefined);

export function Placement({ pool, ramGb, count, value, onChange, validated }: { pool: string; ramGb: number; count: number; value: PlacementValue; onChange: (v: PlacementValue) => void; validated: 'error' | 'default' }) {
  const { t } = useTranslation('edu');
  const { data, error } = useLoad(
    async (s) => {
      const nodes = (await listAll<NodeRow>('node', pool ? { pool_uuid: pool } : undefined)).filter((n) => n.is_compute);
      const ov = await get<{ nodes: { list: OverviewNode[] } }>('/api/v1.0/monitor/overview', s).catch(() => null);
      return { nodes, ov: ov?.nodes.list || [] };
    },
    [pool],
  );
  const placed = placedCount(value);
  const ram = ramGb * 1024 ** 3;
  return (
    <>
      <FormGroup role="radiogroup" fieldId="edu-placement" label={t('place.mode')} isStack>
        <Radio id="edu-place-auto" name="edu-place" label={t('place.auto')} description={t('place.autoHint')} isChecked={value === null} onChange={() => onChange(null)} data-testid="edu-place-auto" />
        <Radio
          id="edu-place-manual"
          name="edu-place"
          label={t('place.manual')}
          description={t('place.manualHint')}
          isChecked={value !== null}
          onChange={() => onChange(Object.fromEntries((data?.nodes || []).map((n, i) => [n.ip, i === 0 ? count : 0])))}
          data-testid="edu-place-manual"
        />
      </FormGroup>
      <ErrorAlert error={error} />
      {data && data.nodes.length === 0 && <Alert isInline variant="warning" title={t('place.noNodes')} />}
      {data && data.nodes.length > 0 && (
        <Table aria-label={t('place.servers')} variant="compact">
          <Thead>
            <Tr>
              <Th>{t('place.server')}</Th>
              <Th>{t('common:state')}</Th>
              <Th>{t('place.desktops')}</Th>
              <Th>{t('place.memory')}</Th>
              <Th>{t('place.fits')}</Th>
              {value !== null && <Th>{t('place.count')}</Th>}
            </Tr>
          </Thead>
          <Tbody>
            {data.nodes.map((n) => {
              const o = data.ov.find((x) => x.uuid === n.uuid);
              const physical = o?.memory.physical || n.memory_gb * 1024 ** 3;
              const running = o?.memory.running || 0;
              // What the service leaves for new desktops (without over-commit): RAM less 1 GB less the running desktops.
              const free = Math.max(0, physical - 1024 ** 3 - running);
              const fits = ram > 0 ? Math.floor(free / ram) : null;
              const up = (o?.status || n.status) === 'up';
              const mine = value?.[n.ip] ?? 0;
              return (
                <Tr key={n.uuid} data-testid="edu-place-row" data-name={n.name}>
                  <Td dataLabel={t('place.server')}>
                    {n.name} <span className="vdi-muted">{n.ip}</span>
                  </Td>
                  <Td dataLabel={t('common:state')}>
                    <Label color={up ? 'green' : 'red'}>{t(up ? 'place.up' : 'place.down')}</Label>
                  </Td>
                  <Td dataLabel={t('place.desktops')}>{o ? t('place.desktopsOf', { running: fmtNumber(o.desktops_running), total: fmtNumber(o.desktops) }) : '—'}</Td>
                  <Td dataLabel={t('place.memory')}>{o ? t('place.memoryOf', { allocated: fmtBytes(o.memory.allocated), running: fmtBytes(running), physical: fmtBytes(physical) }) : fmtBytes(physical)}</Td>
                  <Td dataLabel={t('place.fits')}>
                    {fits === null ? '—' : <span className={value !== null && mine > fits ? 'pf-v6-u-danger-color-100' : undefined}>{fmtNumber(fits)}</span>}
                  </Td>
                  {value !== null && (
                    <Td dataLabel={t('place.count')}>
                      <NumberInput
                        value={mine}
                        min={0}
                        max={1000}
                        onMinus={() => onChange({ ...value, [n.ip]: Math.max(0, mine - 1) })}
                        onPlus={() => onChange({ ...value, [n.ip]: mine + 1 })}
                        onChange={(e) => onChange({ ...value, [n.ip]: Math.max(0, Number((e.target as HTMLInputElement).value) || 0) })}
                        inputAria-label={t('place.countOn', { name: n.name })}
                        minusBtnAriaLabel={t('less')}
                        plusBtnAriaLabel={t('more')}
                        validated={validated}
                        data-testid={`edu-place-count-${n.ip}`}
                      />
                    </Td>
                  )}
                </Tr>
              );
            })}
          </Tbody>
        </Table>
      )}
      {value !== null && (
        <Alert isInline isPlain variant={placed === count ? 'success' : 'warning'} title={t('place.placed', { placed, count })} data-testid="edu-place-sum" />
      )}
    </>
  );
}
