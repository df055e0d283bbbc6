// The user dialogs: create or edit one user, a numbered batch, and a new password.
import { Button, Checkbox, Form, FormGroup, FormHelperText, Grid, GridItem, HelperText, HelperTextItem, Modal, ModalBody, ModalFooter, ModalHeader, TextInput } from '@patternfly/react-core';
import { FormEvent, ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, post } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { GroupSelect } from './GroupSelect';
import { User, UserGroup } from './types';

interface Health {
  user_password?: { min_length: number; max_length: number };
}

/** The password rule the service enforces (public in /api/v1/health). */
function usePasswordRule(): string | undefined {
  const { t } = useTranslation('users');
  const { data } = useLoad((s) => get<Health>('/api/v1/health', s), []);
  const r = data?.user_password;
  return r ? t('form.passwordRule', { min: r.min_length, max: r.max_length }) : undefined;
}

function Hint({ text }: { text?: string }) {
  if (!text) return null;
  return (
    <FormHelperText>
      <HelperText>
        <HelperTextItem>{text}</HelperTextItem>
      </HelperText>
    </FormHelperText>
  );
}

function Dialog(p: { id: string; title: string; busy: boolean; ok: string; okDisabled?: boolean; testId: string; error: unknown; onSubmit: () => void; onClose: () => void; children: ReactNode }) {
  const { t } = useTranslation('users');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    p.onSubmit();
  };
  return (
    <Modal variant="small" isOpen onClose={p.onClose} aria-labelledby={`${p.id}-title`}>
      <ModalHeader title={p.title} labelId={`${p.id}-title`} />
      <ModalBody>
        <Form id={p.id} onSubmit={submit}>
          {p.children}
        </Form>
        <ErrorAlert error={p.error} />
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form={p.id} isLoading={p.busy} isDisabled={p.busy || p.okDisabled} data-testid={p.testId}>
          {p.ok}
        </Button>
        <Button variant="link" onClick={p.onClose}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** Runs a save: clears errors, calls, toasts, closes; keeps the dialog open on failure. */
function useSave(onClose: (saved: boolean) => void) {
  const fe = useFieldErrors();
  const [busy, setBusy] = useState(false);
  const notify = useNotify();
  const run = async (fn: () => Promise<unknown>, done: string) => {
    setBusy(true);
    fe.clear();
    try {
      await fn();
      notify('success', done);
      onClose(true);
    } catch (e) {
      fe.fail(e);
      setBusy(false);
    }
  };
  return { fe, busy, run };
}

export function UserForm({ user, groups, group, onClose }: { user: User | null; groups: UserGroup[]; group: string; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('users');
  const rule = usePasswordRule();
  const [g, setG] = useState(user?.group_uuid || group || groups[0]?.uuid || '');
  const [userName, setUserName] = useState(user?.user_name || '');
  const [passwd, setPasswd] = useState('');
  const [name, setName] = useState(user?.name || '');
  const [phone, setPhone] = useState(user?.phone || '');
  const [email, setEmail] = useState(user?.email || '');
  const [enabled, setEnabled] = useState(user ? user.enabled : true);
  const { fe, busy, run } = useSave(onClose);
  const f = (n: string) => [n, `value.${n}`];
  const save = () =>
    run(
      () =>
        user
          ? post('/api/v1/group/user/update', { uuid: user.uuid, value: { group_uuid: g, user_name: userName, name, phone, email, enabled } })
          : post('/api/v1/group/user/create', { group_uuid: g, user_name: userName, passwd, name, phone, email, enabled }),
      user ? t('form.updated', { name: userName }) : t('form.created', { name: userName }),
    );
  return (
    <Dialog
      id="user-form"
      title={user ? t('form.editTitle', { name: user.user_name }) : t('form.createTitle')}
      busy={busy}
      ok={user ? t('common:save') : t('common:create')}
      okDisabled={!g || !userName.trim() || (!user && !passwd)}
      testId="user-form-submit"
      error={fe.error}
      onSubmit={save}
      onClose={() => onClose(false)}
    >
      <FormGroup label={t('form.group')} fieldId="user-form-group" isRequired>
        <GroupSelect id="user-form-group" groups={groups} value={g} onChange={setG} validated={fe.v(f('group_uuid'))} />
        {fe.help(f('group_uuid'))}
      </FormGroup>
      <FormGroup label={t('form.userName')} fieldId="user-form-user-name" isRequired>
        <TextInput id="user-form-user-name" value={userName} onChange={(_e, v) => setUserName(v)} validated={fe.v(f('user_name'))} data-testid="user-form-user-name" isRequired />
        {fe.help(f('user_name')) || <Hint text={t('form.userNameRule')} />}
      </FormGroup>
      {!user && (
        <FormGroup label={t('form.password')} fieldId="user-form-passwd" isRequired>
          <TextInput id="user-form-passwd" type="password" value={passwd} onChange={(_e, v) => setPasswd(v)} validated={fe.v('passwd')} data-testid="user-form-passwd" isRequired autoComplete="new-password" />
          {fe.help('passwd') || <Hint text={rule} />}
        </FormGroup>
      )}
      <FormGroup label={t('form.realName')} fieldId="user-form-name">
        <TextInput id="user-form-name" value={name} onChange={(_e, v) => setName(v)} validated={fe.v(f('name'))} />
        {fe.help(f('name'))}
      </FormGroup>
      <Grid hasGutter>
        <GridItem span={6}>
          <FormGroup label={t('form.phone')} fieldId="user-form-phone">
            <TextInput id="user-form-phone" type="tel" value={phone} onChange={(_e, v) => setPhone(v)} validated={fe.v(f('phone'))} />
            {fe.help(f('phone'))}
          </FormGroup>
        </GridItem>
        <GridItem span={6}>
          <FormGroup label={t('form.email')} fieldId="user-form-email">
            <TextInput id="user-form-email" type="email" value={email} onChange={(_e, v) => setEmail(v)} validated={fe.v(f('email'))} />
            {fe.help(f('email'))}
          </FormGroup>
        </GridItem>
      </Grid>
      <Checkbox id="user-form-enabled" label={t('form.enabled')} isChecked={enabled} onChange={(_e, v) => setEnabled(v)} />
    </Dialog>
  );
}

export function BatchForm({ groups, group, onClose }: { groups: UserGroup[]; group: string; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('users');
  const rule = usePasswordRule();
  const [g, setG] = useState(group || groups[0]?.uuid || '');
  const [prefix, setPrefix] = useState('');
  const [digits, setDigits] = useState('2');
  const [start, setStart] = useState('1');
  const [count, setCount] = useState('10');
  const [passwd, setPasswd] = useState('');
  const { fe, busy, run } = useSave(onClose);
  const n = Number(count);
  const first = Number(start);
  const d = Number(digits);
  const example = (i: number) => prefix + String(i).padStart(d, '0');
  const preview = prefix && n >= 1 && Number.isInteger(first) && Number.isInteger(d) ? t('batch.preview', { first: example(first), last: example(first + n - 1), count: n }) : undefined;
  const save = () =>
    run(
      () => post('/api/v1/group/user/multi_create', { group_uuid: g, prefix, postfix: Number(digits), postfix_start: Number(start), user_num: Number(count), passwd }),
      t('batch.created', { count: n }),
    );
  return (
    <Dialog
      id="batch-form"
      title={t('batch.title')}
      busy={busy}
      ok={t('common:create')}
      okDisabled={!g || !prefix.trim() || !passwd || !count}
      testId="batch-form-submit"
      error={fe.error}
      onSubmit={save}
      onClose={() => onClose(false)}
    >
      <FormGroup label={t('form.group')} fieldId="batch-form-group" isRequired>
        <GroupSelect id="batch-form-group" groups={groups} value={g} onChange={setG} validated={fe.v('group_uuid')} />
        {fe.help('group_uuid')}
      </FormGroup>
      <FormGroup label={t('batch.prefix')} fieldId="batch-form-prefix" isRequired>
        <TextInput id="batch-form-prefix" value={prefix} onChange={(_e, v) => setPrefix(v)} validated={fe.v('prefix')} data-testid="batch-form-prefix" isRequired />
        {fe.help('prefix') || <Hint text={preview} />}
      </FormGroup>
      <Grid hasGutter>
        <GridItem span={4}>
          <FormGroup label={t('batch.digits')} fieldId="batch-form-digits">
            <TextInput id="batch-form-digits" type="number" min={0} max={6} value={digits} onChange={(_e, v) => setDigits(v)} validated={fe.v('postfix')} />
            {fe.help('postfix')}
          </FormGroup>
        </GridItem>
        <GridItem span={4}>
          <FormGroup label={t('batch.start')} fieldId="batch-form-start">
            <TextInput id="batch-form-start" type="number" min={0} value={start} onChange={(_e, v) => setStart(v)} validated={fe.v('postfix_start')} />
            {fe.help('postfix_start')}
          </FormGroup>
        </GridItem>
        <GridItem span={4}>
          <FormGroup label={t('batch.count')} fieldId="batch-form-count" isRequired>
            <TextInput id="batch-form-count" type="number" min={1} value={count} onChange={(_e, v) => setCount(v)} validated={fe.v('user_num')} data-testid="batch-form-count" />
            {fe.help('user_num')}
          </FormGroup>
        </GridItem>
      </Grid>
      <FormGroup label={t('batch.password')} fieldId="batch-form-passwd" isRequired>
        <TextInput id="batch-form-passwd" type="password" value={passwd} onChange={(_e, v) => setPasswd(v)} validated={fe.v('passwd')} data-testid="batch-form-passwd" autoComplete="new-password" />
        {fe.help('passwd') || <Hint text={rule} />}
      </FormGroup>
    </Dialog>
  );
}

export function PasswordForm({ user, onClose }: { user: User; onClose: (saved: boolean) => void }) {
  const { t } = useTranslation('users');
  const rule = usePasswordRule();
  const [passwd, setPasswd] = useState('');
  const [again, setAgain] = useState('');
  const { fe, busy, run } = useSave(onClose);
  const mismatch = again !== '' && again !== passwd;
  return (
    <Dialog
      id="password-form"
      title={t('password.title', { name: user.user_name })}
      busy={busy}
      ok={t('password.submit')}
      okDisabled={!passwd || passwd !== again}
      testId="password-form-submit"
      error={fe.error}
      onSubmit={() => run(() => post('/api/v1/group/user/update', { uuid: user.uuid, value: { passwd } }), t('password.done', { name: user.user_name }))}
      onClose={() => onClose(false)}
    >
      <FormGroup label={t('password.new')} fieldId="password-form-new" isRequired>
        <TextInput id="password-form-new" type="password" value={passwd} onChange={(_e, v) => setPasswd(v)} validated={fe.v('value.passwd')} autoComplete="new-password" data-testid="password-form-new" />
        {fe.help('value.passwd') || <Hint text={rule} />}
      </FormGroup>
      <FormGroup label={t('password.again')} fieldId="password-form-again" isRequired>
        <TextInput id="password-form-again" type="password" value={again} onChange={(_e, v) => setAgain(v)} validated={mismatch ? 'error' : 'default'} autoComplete="new-password" data-testid="password-form-again" />
        {mismatch && (
          <FormHelperText>
            <HelperText>
              <HelperTextItem variant="error">{t('password.mismatch')}</HelperTextItem>
            </HelperText>
          </FormHelperText>
        )}
      </FormGroup>
    </Dialog>
  );
}
