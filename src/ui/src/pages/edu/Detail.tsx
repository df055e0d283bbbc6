// A group's page: name and labels, the group-wide actions (start, stop and
// reboot every desktop, show to or hide from terminals, make default,
// edit, add desktops, delete), its settings, and its desktops with
// per-desktop and bulk actions (and a running desktop's console).
import { Alert, Breadcrumb, BreadcrumbItem, Button, Card, CardBody, CardTitle, DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, Flex, FlexItem, Label, PageSection, Title, ToolbarItem } from '@patternfly/react-core';
import { IAction } from '@patternfly/react-table';
import { ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listAll, Task } from '../../api';
import { href, navigate } from '../../app/router';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, errorText } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { BulkAction, ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { useTasks } from '../../components/tasks';
import { TaskProgress } from '../../components/TaskDrawer';
import { ConsoleModal } from '../../components/vmconsole/ConsoleModal';
import { fmtDate, fmtGB, fmtNumber } from '../../i18n';
import { getTemplate } from '../templates/model';
import { GroupLabels } from './List';
import { AddDesktopsModal, DeleteGroup, EditModal } from './Modals';
import { Desktop, DESKTOPS, desktopName, desktopsBody, DesktopVerb, getGroup, GroupPower, groupPath, instancePath, makeActive, makeDefault, outcomeOf, PHASE_COLOR, STATUS_COLOR } from './model';
import { restoreText } from './Restore';

interface Confirm {
  title: string;
  body: ReactNode;
  label: string;
  danger: boolean;
  run: () => Promise<unknown>;
}

export function Detail({ uuid }: { uuid: string }) {
  const { t } = useTranslation('edu');
  const notify = useNotify();
  const { runTask } = useTasks();
  const { data: g, error, reload } = useLoad((s) => getGroup(uuid, s), [uuid], 5000);
  const nodes = useLoad(() => listAll<{ uuid: string; name: string; ip: string }>('node'), []);
  const tpl = useLoad((s) => (g ? getTemplate(g.template, s) : Promise.resolve(null)), [g?.template]);
  const [busy, setBusy] = useState<string | null>(null);
  const [task, setTask] = useState<Task | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [dialog, setDialog] = useState<'edit' | 'add' | 'delete' | null>(null);
  const [listKey, setListKey] = useState(0);
  const [delDesktop, setDelDesktop] = useState<Desktop | null>(null);
  const [consoleOf, setConsoleOf] = useState<Desktop | null>(null);

  if (!g) {
    return (
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem to={href('edu')}>{t('title')}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1">{t('title')}</Title>
        <ErrorAlert error={error} />
      </PageSection>
    );
  }
  const refresh = () => {
    reload();
    setListKey((x) => x + 1);
  };
  /** Runs a group action; the buttons wait while it runs. */
  const act = async (key: string, fn: () => Promise<unknown>, done: string, failed: string) => {
    setBusy(key);
    setTask(null);
    try {
      await fn();
      notify('success', done);
    } catch (e) {
      notify('danger', failed, errorText(e));
    }
    setBusy(null);
    refresh();
  };
  /** A power verb on every desktop, as a task whose outcome counts them. */
  const power = (verb: GroupPower) => {
    setBusy(verb);
    setTask(null);
    void (async () => {
      try {
        const done = await runTask(t(`power.task.${verb}`, { name: g.name }), 'POST', groupPath(verb), { uuid: g.uuid, name: g.name }, setTask);
        const o = outcomeOf(done);
        if (o && o.failed_num > 0) {
          notify(
            'warning',
            t('power.report', { action: t(`power.${verb}All`), ok: o.success_num, failed: o.failed_num }),
            <ul>
              {o.failed.map((f, i) => (
                <li key={i}>{f}</li>
              ))}
            </ul>,
          );
        } else {
          notify('success', o ? t('power.report', { action: t(`power.${verb}All`), ok: o.success_num, failed: 0 }) : t(`power.done.${verb}`, { name: g.name }));
        }
      } catch (e) {
        notify('danger', t('failed', { name: g.name }), errorText(e));
      }
      setBusy(null);
      refresh();
    })();
    return Promise.resolve();
  };
  const askPower = (verb: GroupPower) =>
    setConfirm({
      title: t(`power.confirm.${verb}Title`, { name: g.name }),
      body: (
        <>
          <p>{t(`power.confirm.${verb}Body`, { name: g.name, count: g.total_count })}</p>
          {verb !== 'stop' && g.sys_restore ? <p>{t('power.confirm.restore')}</p> : null}
        </>
      ),
      label: t(`power.${verb}All`),
      danger: verb !== 'start',
      run: () => power(verb),
    });
  const btn = (key: string, label: string, onClick: () => void, variant: 'primary' | 'secondary' | 'tertiary' | 'danger' = 'secondary', disabled = false) => (
    <FlexItem key={key}>
      <Button variant={variant} onClick={onClick} isLoading={busy === key} isDisabled={busy !== null || disabled} data-testid={`edu-${key}`}>
        {label}
      </Button>
    </FlexItem>
  );
  const row = (term: string, value: ReactNode) => (
    <DescriptionListGroup key={term}>
      <DescriptionListTerm>{term}</DescriptionListTerm>
      <DescriptionListDescription>{value}</DescriptionListDescription>
    </DescriptionListGroup>
  );
  const nodeName = (u: string) => nodes.data?.find((n) => n.uuid === u)?.name || '—';
  const hasData = !!tpl.data?.devices.some((x) => x.type === 'data');

  // Desktops: one task per desktop, so each answers for itself.
  const onDesktop = (verb: DesktopVerb, d: Desktop) => runTask(t(`desktop.task.${verb}`, { name: d.name }), 'POST', instancePath(verb), desktopsBody(g, [d]));
  const desktopAct = async (verb: DesktopVerb, d: Desktop) => {
    try {
      await onDesktop(verb, d);
      notify('success', t(`desktop.done.${verb}`, { name: d.name }));
    } catch (e) {
      notify('danger', t('failed', { name: d.name }), errorText(e));
    }
    setListKey((x) => x + 1);
    reload();
  };
  const rowActions = (d: Desktop): IAction[] => [
    { title: t('vmconsole:action'), isDisabled: d.status !== 'active', onClick: () => setConsoleOf(d) },
    { isSeparator: true },
    { title: t('desktop.start'), onClick: () => void desktopAct('start', d) },
    { title: t('desktop.stop'), onClick: () => void desktopAct('stop', d) },
    { title: t('desktop.hard_stop'), onClick: () => void desktopAct('hard_stop', d) },
    { title: t('desktop.reboot'), onClick: () => void desktopAct('reboot', d) },
    { title: t('desktop.hard_reboot'), onClick: () => void desktopAct('hard_reboot', d) },
    { isSeparator: true },
    { title: t('common:delete'), onClick: () => setDelDesktop(d), isDanger: true },
  ];
  const bulk = (verb: DesktopVerb, danger = false, confirm?: BulkAction<Desktop>['confirm']): BulkAction<Desktop> => ({ label: t(`desktop.${verb}`), danger, confirm, run: (d) => onDesktop(verb, d) });
  const names = (ds: Desktop[]) => ds.map((d) => d.name).join(', ');

  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem to={href('edu')}>{t('title')}</BreadcrumbItem>
          <BreadcrumbItem isActive>{g.name}</BreadcrumbItem>
        </Breadcrumb>
        <Title headingLevel="h1">
          {g.name} <GroupLabels g={g} />{' '}
          {g.state !== 'ready' && (
            <Label color={PHASE_COLOR[g.state] || 'grey'} data-testid="edu-phase">
              {t(`phase.${g.state}`, { defaultValue: g.state })}
            </Label>
          )}
        </Title>
        <p className="vdi-muted">{t('detail.summary', { classroom: g.group_name || '—', template: g.template_name || '—', running: fmtNumber(g.active_count), total: fmtNumber(g.total_count) })}</p>
        <Flex spaceItems={{ default: 'spaceItemsSm' }} style={{ marginTop: 'var(--pf-t--global--spacer--md)' }}>
          {btn('start-all', t('power.startAll'), () => askPower('start'), 'primary')}
          {btn('stop-all', t('power.stopAll'), () => askPower('stop'))}
          {btn('reboot-all', t('power.rebootAll'), () => askPower('reboot'))}
          {g.active
            ? btn('deactivate', t('deactivate'), () => void act('deactivate', () => makeActive(g, false), t('deactivated', { name: g.name }), t('failed', { name: g.name })))
            : btn('activate', t('activate'), () => void act('activate', () => makeActive(g, true), t('activated', { name: g.name }), t('failed', { name: g.name })))}
          {btn('make-default', t('makeDefault'), () => void act('make-default', () => makeDefault(g), t('madeDefault', { name: g.name }), t('failed', { name: g.name })), 'secondary', g.default)}
          {btn('edit', t('common:edit'), () => setDialog('edit'), 'tertiary')}
          {btn('add-desktops', t('add.button'), () => setDialog('add'), 'tertiary')}
          {btn('delete', t('common:delete'), () => setDialog('delete'), 'danger')}
        </Flex>
        {task && busy && (
          <div style={{ marginTop: 'var(--pf-t--global--spacer--md)' }} data-testid="edu-progress">
            <TaskProgress task={task} />
          </div>
        )}
        {g.state === 'building' && <Alert isInline variant="info" title={t('detail.building')} style={{ marginTop: 'var(--pf-t--global--spacer--md)' }} />}
      </PageSection>
      <PageSection>
        <Card isPlain>
          <CardTitle>{t('detail.settings')}</CardTitle>
          <CardBody>
            <DescriptionList isHorizontal isCompact columnModifier={{ default: '2Col' }}>
              {row(t('col.classroom'), g.group_name || '—')}
              {row(t('col.template'), g.template ? <a href={href(`templates/${g.template}`)}>{g.template_name || g.template}</a> : '—')}
              {row(t('col.desktops'), t('runningOf', { running: fmtNumber(g.active_count), total: fmtNumber(g.total_count) }))}
              {row(t('col.hardware'), t('create.templateHw', { vcpu: g.vcpu, ram: fmtGB(g.ram) }))}
              {row(t('col.restore'), restoreText(t, g.sys_restore, g.data_restore))}
              {row(t('col.naming'), t('detail.naming', { first: desktopName(g.prefix, g.postfix, g.postfix_start) }))}
              {row(t('col.shown'), t(g.active ? 'detail.shown' : 'detail.hidden'))}
              {row(t('common:created'), fmtDate(g.created_at))}
            </DescriptionList>
          </CardBody>
        </Card>
      </PageSection>
      <PageSection>
        <Title headingLevel="h2">{t('desktop.title')}</Title>
        <ListView<Desktop>
          resource={DESKTOPS}
          filters={{ desktop_group: g.uuid }}
          ariaLabel={t('desktop.title')}
          testId="edu-desktops"
          rowName={(r) => r.name}
          reloadKey={listKey}
          refreshMs={5000}
          searchFields={[
            { field: 'name', label: t('common:name') },
            { field: 'desktop_ip', label: t('desktop.ip') },
            { field: 'terminal_ip', label: t('desktop.terminal') },
          ]}
          emptyText={t('desktop.empty')}
          toolbar={
            <ToolbarItem>
              <Button variant="secondary" onClick={() => setDialog('add')} isDisabled={busy !== null} data-testid="edu-desktops-add">
                {t('add.button')}
              </Button>
            </ToolbarItem>
          }
          columns={[
            { key: 'name', title: t('common:name') },
            {
              key: 'status',
              title: t('common:state'),
              render: (r) => (
                <>
                  <Label color={STATUS_COLOR[r.status] || 'grey'}>{t(`status.${r.status}`, { defaultValue: r.status })}</Label>
                  {r.state !== 'ready' && (
                    <>
                      {' '}
                      <Label color={PHASE_COLOR[r.state] || 'grey'}>{t(`phase.${r.state}`, { defaultValue: r.state })}</Label>
                    </>
                  )}
                </>
              ),
            },
            { key: 'desktop_ip', title: t('desktop.ip') },
            { key: 'node_uuid', title: t('desktop.server'), render: (r) => nodeName(r.node_uuid) },
            { key: 'terminal_id', title: t('desktop.seat'), render: (r) => (r.terminal_id ? fmtNumber(r.terminal_id) : '—') },
            { key: 'terminal_ip', title: t('desktop.terminal'), render: (r) => (r.terminal_ip || r.terminal_mac ? `${r.terminal_ip || '—'}${r.terminal_mac ? ` (${r.terminal_mac})` : ''}` : '—') },
            { key: 'start_datetime', title: t('desktop.started'), render: (r) => (r.start_datetime && r.status === 'active' ? fmtDate(r.start_datetime) : '—') },
          ]}
          rowActions={rowActions}
          bulkActions={[
            bulk('start'),
            bulk('stop', false, (ds) => ({ title: t('desktop.confirmStopTitle', { count: ds.length }), body: <p>{t('desktop.confirmStopBody', { names: names(ds) })}</p> })),
            bulk('reboot', false, (ds) => ({ title: t('desktop.confirmRebootTitle', { count: ds.length }), body: <p>{t('desktop.confirmRebootBody', { names: names(ds) })}</p> })),
            bulk('delete', true, (ds) => ({ title: t('desktop.confirmDeleteTitle', { count: ds.length }), body: <p>{t('desktop.confirmDeleteBody', { count: ds.length, names: names(ds) })}</p> })),
          ]}
        />
      </PageSection>
      {confirm && (
        <ConfirmModal
          title={confirm.title}
          body={confirm.body}
          confirmLabel={confirm.label}
          danger={confirm.danger}
          onConfirm={confirm.run}
          onClose={() => setConfirm(null)}
        />
      )}
      {delDesktop && (
        <ConfirmModal
          title={t('desktop.deleteTitle', { name: delDesktop.name })}
          body={<p>{t('desktop.deleteBody', { name: delDesktop.name, group: g.name })}</p>}
          confirmLabel={t('common:delete')}
          onConfirm={() => onDesktop('delete', delDesktop)}
          onClose={(done) => {
            if (done) notify('success', t('desktop.done.delete', { name: delDesktop.name }));
            setDelDesktop(null);
            refresh();
          }}
        />
      )}
      {consoleOf && <ConsoleModal kind="desktop" uuid={consoleOf.uuid} name={consoleOf.name} onClose={() => setConsoleOf(null)} />}
      {dialog === 'edit' && (
        <EditModal
          group={g}
          hasData={hasData}
          onClose={(saved) => {
            setDialog(null);
            if (saved) reload();
          }}
        />
      )}
      {dialog === 'add' && (
        <AddDesktopsModal
          group={g}
          existing={g.total_count}
          onClose={(added) => {
            setDialog(null);
            if (added) refresh();
          }}
        />
      )}
      {dialog === 'delete' && (
        <DeleteGroup
          group={g}
          onClose={(done) => {
            setDialog(null);
            if (done) navigate('edu');
          }}
        />
      )}
    </>
  );
}
