// The wizard's last steps: the review of every choice, and the
// controller/init task's progress, log and result.
import { Alert, CodeBlock, CodeBlockCode, Content, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, List, ListItem, Progress, ProgressMeasureLocation, ProgressVariant } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { Task } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { Form as F } from './model';

export function ReviewStep({ f }: { f: F }) {
  const { t } = useTranslation('setup');
  const vlan = f.switch_type === 'vlan';
  const rows: [string, string][] = [
    [t('review.admin'), f.name],
    [t('review.root'), f.setRoot ? t('review.rootSet') : t('review.rootKept')],
    [t('network.ip'), f.ip],
    [t('review.interfaces'), t('review.interfacesValue', { manage: f.manage_interface, image: f.image_interface, data: f.data_interface })],
    [t('review.compute'), f.is_compute ? t('review.computeYes') : t('review.computeNo')],
    [
      t('review.storage'),
      Object.entries(f.roles)
        .filter(([, r]) => r.length)
        .map(([p, r]) => `${p}: ${[...r].sort().map((x) => t(`role.${x}`)).join(t('listSep'))}`)
        .join('; '),
    ],
    [t('review.switch'), vlan ? t('review.switchVlan', { name: f.switch_name, id: f.vlan_id }) : t('review.switchFlat', { name: f.switch_name })],
    [t('switch.network_name'), f.network_name],
    [
      t('switch.subnet'),
      vlan || f.subnetMode === 'enter' ? t('review.subnetValue', { start: f.subnet.start_ip, end: f.subnet.end_ip, mask: f.subnet.netmask, gw: f.subnet.gateway }) : t('review.subnetDerived', { nic: f.data_interface }),
    ],
  ];
  return (
    <>
      <Content component="p">{t('review.intro')}</Content>
      <DescriptionList isHorizontal isCompact data-testid="setup-review">
        {rows.map(([k, v]) => (
          <DescriptionListGroup key={k}>
            <DescriptionListTerm>{k}</DescriptionListTerm>
            <DescriptionListDescription>{v}</DescriptionListDescription>
          </DescriptionListGroup>
        ))}
      </DescriptionList>
    </>
  );
}

export interface Run {
  state: 'idle' | 'sending' | 'running' | 'done' | 'failed' | 'lost';
  task?: Task;
  error?: unknown;
  /** Contact with the service is lost for now (the network may be being rebuilt). */
  reconnecting?: boolean;
}

const RESULT_KEYS = ['bridge', 'network_uuid', 'switch_uuid', 'node_uuid', 'subnet_uuid', 'pool_uuid', 'ip'];

export function InitStep({ run }: { run: Run }) {
  const { t } = useTranslation('setup');
  const task = run.task;
  const pct = run.state === 'done' ? 100 : Math.max(0, Math.min(100, Number(task?.percent) || 0));
  const result = (task?.result && typeof task.result === 'object' ? task.result : {}) as Record<string, unknown>;
  const warnings = Array.isArray(result.warnings) ? result.warnings.filter(Boolean).map(String) : [];
  const shown = [...RESULT_KEYS, ...Object.keys(result).filter((k) => !RESULT_KEYS.includes(k))].filter((k) => {
    const v = result[k];
    return v !== undefined && v !== null && typeof v !== 'object';
  });
  const stateText = run.state === 'sending' ? t('task.sending') : t(`task.state.${task?.state || 'queued'}`);
  return (
    <>
      <Progress
        value={pct}
        title={stateText}
        measureLocation={ProgressMeasureLocation.outside}
        variant={run.state === 'failed' ? ProgressVariant.danger : run.state === 'done' ? ProgressVariant.success : undefined}
        aria-label={t('task.progress')}
        data-testid="setup-progress"
      />
      {run.reconnecting && <Alert component="h3" variant="info" isInline isPlain title={t('task.reconnecting')} />}
      {run.state === 'failed' && (
        <>
          <ErrorAlert error={run.error} title={t('task.failed')} />
          <Alert component="h3" variant="info" isInline isPlain title={t('task.undone')} />
        </>
      )}
      {run.state === 'lost' && (
        <>
          <ErrorAlert error={run.error} title={t('task.lost', { id: task?.uuid || '' })} />
          <Alert component="h3" variant="info" isInline isPlain title={t('task.lostHelp')} />
        </>
      )}
      {run.state === 'done' && (
        <Alert component="h3" variant="success" isInline title={t('done.title')} data-testid="setup-done">
          <p>{t('done.text')}</p>
          <DescriptionList isHorizontal isCompact data-testid="setup-result">
            {shown.map((k) => (
              <DescriptionListGroup key={k}>
                <DescriptionListTerm>{RESULT_KEYS.includes(k) ? t(`result.${k}`) : k.replace(/_/g, ' ')}</DescriptionListTerm>
                <DescriptionListDescription>
                  <code>{String(result[k])}</code>
                </DescriptionListDescription>
              </DescriptionListGroup>
            ))}
          </DescriptionList>
          {warnings.length > 0 && (
            <Alert component="h4" variant="warning" isInline isPlain title={t('done.warnings')}>
              <List>
                {warnings.map((w) => (
                  <ListItem key={w}>{w}</ListItem>
                ))}
              </List>
            </Alert>
          )}
        </Alert>
      )}
      {task && task.log && task.log.length > 0 && (
        // Focusable, so the log can be scrolled from the keyboard.
        <div tabIndex={0} role="region" aria-label={t('task.log')}>
          <CodeBlock data-testid="setup-task-log">
            <CodeBlockCode>{task.log.join('\n')}</CodeBlockCode>
          </CodeBlock>
        </div>
      )}
    </>
  );
}
