// The terminal registry: every terminal seen (MAC, address, seat,
// classroom, user, open desktop, last seen); rename, re-seat, forget.
import { Button, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, List, ListItem, Modal, ModalBody, ModalFooter, ModalHeader, PageSection, TextInput, Title, Tooltip } from '@patternfly/react-core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call } from '../../api';
import { PageProps } from '../../app/pages';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { ListView } from '../../components/ListView';
import { useNotify } from '../../components/notify';
import { fmtAgo, fmtDate } from '../../i18n';

interface Terminal {
  [k: string]: unknown;
  uuid: string;
  mac: string;
  name: string;
  ip: string | null;
  terminal_id: number | null;
  group_name: string | null;
  user_name: string | null;
  desktop_name: string | null;
  last_seen: string;
  created_at: string;
}

const label = (x: Terminal) => (x.name ? `${x.name} (${x.mac})` : x.mac);

function TerminalForm({ term, onClose }: { term: Terminal; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('terminals');
  const notify = useNotify();
  const fe = useFieldErrors();
  const [name, setName] = useState(term.name || '');
  const [seat, setSeat] = useState(term.terminal_id === null ? '' : String(term.terminal_id));
  const [busy, setBusy] = useState(false);
  const save = async () => {
    setBusy(true);
    fe.clear();
    try {
      await call('PUT', '/api/v1.0/terminal/', { uuid: term.uuid, value: { name, terminal_id: seat.trim() === '' ? null : Number(seat) } });
      notify('success', t('form.saved', { name: name || term.mac }));
      onClose(true);
    } catch (e) {
      fe.fail(e);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => onClose(false)} aria-labelledby="terminal-form-title" data-testid="terminal-form">
      <ModalHeader title={t('form.title', { mac: term.mac })} labelId="terminal-form-title" />
      <ModalBody>
        <Form id="terminal-form" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <FormGroup label={t('form.name')} fieldId="terminal-form-name">
            <TextInput id="terminal-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v('value.name')} data-testid="terminal-form-name" />
            {fe.help('value.name') || (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem>{t('form.nameHelp')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
          <FormGroup label={t('form.seat')} fieldId="terminal-form-seat">
            <TextInput id="terminal-form-seat" type="number" min={1} max={100000} value={seat} onChange={(_e, v) => setSeat(v)} validated={fe.v('value.terminal_id')} data-testid="terminal-form-seat" />
            {fe.help('value.terminal_id') || (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem>{t('form.seatHelp')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
        </Form>
        <ErrorAlert error={fe.error} />
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form="terminal-form" isLoading={busy} isDisabled={busy} data-testid="terminal-form-submit">
          {t('common:save')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

const forget = (x: Terminal) => call('DELETE', '/api/v1.0/terminal/', { terminals: [{ uuid: x.uuid }] });

export default function Page(_p: PageProps) {
  const { t } = useTranslation('terminals');
  const [edit, setEdit] = useState<Terminal | null>(null);
  const [del, setDel] = useState<Terminal | null>(null);
  const [reload, setReload] = useState(0);
  const done = (ok: boolean) => ok && setReload((n) => n + 1);
  const macs = (rows: Terminal[]) => (
    <List>
      {rows.slice(0, 15).map((x) => (
        <ListItem key={x.uuid}>{label(x)}</ListItem>
      ))}
      {rows.length > 15 && <ListItem>{t('andMore', { count: rows.length - 15 })}</ListItem>}
    </List>
  );
  const forgetBody = (rows: Terminal[]) => (
    <>
      <p>{t('forgetBody', { count: rows.length })}</p>
      {macs(rows)}
      <p>{t('forgetAfter')}</p>
    </>
  );
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t('title')}</Title>
        <p className="vdi-muted">{t('intro')}</p>
      </PageSection>
      <PageSection>
        <ListView<Terminal>
          resource="terminal"
          ariaLabel={t('title')}
          testId="terminals-list"
          reloadKey={reload}
          refreshMs={15000}
          rowName={label}
          searchFields={[
            { field: 'mac', label: t('col.mac') },
            { field: 'name', label: t('col.name') },
            { field: 'ip', label: t('col.ip') },
            { field: 'group_name', label: t('col.classroom') },
            { field: 'user_name', label: t('col.user') },
          ]}
          columns={[
            { key: 'name', title: t('col.name') },
            { key: 'mac', title: t('col.mac') },
            { key: 'ip', title: t('col.ip') },
            { key: 'terminal_id', title: t('col.seat') },
            { key: 'group_name', title: t('col.classroom') },
            { key: 'user_name', title: t('col.user') },
            { key: 'desktop_name', title: t('col.desktop') },
            {
              key: 'last_seen',
              title: t('col.lastSeen'),
              render: (x) => (
                <Tooltip content={fmtDate(x.last_seen)}>
                  <span tabIndex={0}>{fmtAgo(x.last_seen)}</span>
                </Tooltip>
              ),
            },
          ]}
          rowActions={(x) => [
            { title: t('renameReseat'), onClick: () => setEdit(x), 'data-testid': 'terminal-rename' },
            { isSeparator: true },
            { title: t('forget'), isDanger: true, onClick: () => setDel(x) },
          ]}
          bulkActions={[{ label: t('forget'), danger: true, confirm: (rows) => ({ title: t('forgetTitle', { count: rows.length }), body: forgetBody(rows) }), run: forget }]}
          emptyText={t('empty')}
        />
      </PageSection>
      {edit && (
        <TerminalForm
          term={edit}
          onClose={(ok) => {
            setEdit(null);
            done(ok);
          }}
        />
      )}
      {del && (
        <ConfirmModal
          title={t('forgetTitle', { count: 1 })}
          body={forgetBody([del])}
          confirmLabel={t('forget')}
          onConfirm={() => forget(del)}
          onClose={(ok) => {
            setDel(null);
            done(ok);
          }}
        />
      )}
    </>
  );
}
