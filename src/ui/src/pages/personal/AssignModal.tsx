// Binding a static desktop to a user: a typeahead over the users listing
// (searched on the server as one types, narrowed to a user group), never a
// list of every user.
import {
  Button,
  Form,
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  MenuToggle,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Select,
  SelectList,
  SelectOption,
  TextInputGroup,
  TextInputGroupMain,
  TextInputGroupUtilities,
} from '@patternfly/react-core';
import TimesIcon from '@patternfly/react-icons/dist/esm/icons/times-icon';
import { FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { list, Page } from '../../api';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { useLoad } from '../../components/hooks';
import { useNotify } from '../../components/notify';
import { assign, Desktop, forgetUser, loadUserGroups, PersonalGroup, USERS, UserRow } from './model';

const userLabel = (u: UserRow) => (u.name && u.name !== u.user_name ? `${u.user_name} (${u.name})` : u.user_name);

function UserPicker({ groupFilter, value, onChange, validated }: { groupFilter: string; value: UserRow | null; onChange: (u: UserRow | null) => void; validated: 'error' | 'default' }) {
  const { t } = useTranslation('personal');
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [applied, setApplied] = useState('');
  useEffect(() => {
    const id = setTimeout(() => setApplied(text), 250);
    return () => clearTimeout(id);
  }, [text]);
  const found = useLoad<Page<UserRow>>(
    (signal) =>
      list<UserRow>(USERS, { page: 1, pageSize: 20, search: { field: 'user_name', value: applied }, filters: { group_uuid: groupFilter || undefined } }, signal),
    [applied, groupFilter],
  );
  const rows = found.data?.results || [];
  const more = (found.data?.count || 0) - rows.length;
  return (
    <>
      <Select
        id="personal-assign-user-select"
        isOpen={open}
        selected={value?.uuid}
        onSelect={(_e, v) => {
          const u = rows.find((r) => r.uuid === v) || null;
          onChange(u);
          if (u) setText(userLabel(u));
          setOpen(false);
        }}
        onOpenChange={setOpen}
        toggle={(ref) => (
          <MenuToggle ref={ref} variant="typeahead" onClick={() => setOpen(!open)} isExpanded={open} isFullWidth status={validated === 'error' ? 'danger' : undefined} data-testid="personal-assign-user">
            <TextInputGroup isPlain>
              <TextInputGroupMain
                value={text}
                onClick={() => setOpen(true)}
                onChange={(_e, v) => {
                  setText(v);
                  onChange(null);
                  setOpen(true);
                }}
                placeholder={t('assign.searchUser')}
                aria-label={t('assign.searchUser')}
                role="combobox"
                isExpanded={open}
                aria-controls="personal-assign-user-list"
                autoComplete="off"
                inputId="personal-assign-user-input"
              />
              {text && (
                <TextInputGroupUtilities>
                  <Button
                    variant="plain"
                    aria-label={t('assign.clear')}
                    icon={<TimesIcon />}
                    onClick={() => {
                      setText('');
                      onChange(null);
                    }}
                  />
                </TextInputGroupUtilities>
              )}
            </TextInputGroup>
          </MenuToggle>
        )}
      >
        <SelectList id="personal-assign-user-list">
          {found.loading && rows.length === 0 && (
            <SelectOption isDisabled value="__loading">
              {t('common:loading')}
            </SelectOption>
          )}
          {!found.loading && rows.length === 0 && (
            <SelectOption isDisabled value="__none">
              {t('assign.noUser')}
            </SelectOption>
          )}
          {rows.map((u) => (
            <SelectOption key={u.uuid} value={u.uuid} description={u.group_name || undefined}>
              {userLabel(u)}
            </SelectOption>
          ))}
          {more > 0 && (
            <SelectOption isDisabled value="__more">
              {t('assign.more', { count: more })}
            </SelectOption>
          )}
        </SelectList>
      </Select>
      <ErrorAlert error={found.error} />
    </>
  );
}

export function AssignModal({ desktop, group, onClose }: { desktop: Desktop; group: PersonalGroup; onClose: (done: boolean) => void }) {
  const { t } = useTranslation('personal');
  const notify = useNotify();
  const fe = useFieldErrors();
  const userGroups = useLoad(() => loadUserGroups(), []);
  const [ug, setUg] = useState(group.groups.length === 1 ? group.groups[0] : '');
  const [user, setUser] = useState<UserRow | null>(null);
  const [busy, setBusy] = useState(false);
  const own = (userGroups.data || []).filter((g) => group.groups.includes(g.uuid));
  const others = (userGroups.data || []).filter((g) => !group.groups.includes(g.uuid));
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!user) return;
    setBusy(true);
    fe.clear();
    try {
      await assign(desktop, user.uuid);
      forgetUser(user.uuid);
      notify('success', t('assign.done', { desktop: desktop.name, user: user.user_name }));
      onClose(true);
    } catch (err) {
      fe.fail(err);
      setBusy(false);
    }
  };
  return (
    <Modal variant="small" isOpen onClose={() => onClose(false)} aria-labelledby="personal-assign-title" data-testid="personal-assign-form">
      <ModalHeader title={t('assign.title', { name: desktop.name })} labelId="personal-assign-title" description={t('assign.intro')} />
      <ModalBody>
        <Form id="personal-assign-form" onSubmit={submit}>
          <ErrorAlert error={fe.error} />
          <FormGroup label={t('assign.userGroup')} fieldId="personal-assign-group">
            <FormSelect id="personal-assign-group" data-testid="personal-assign-group" value={ug} onChange={(_e, v) => setUg(v)}>
              <FormSelectOption value="" label={t('assign.anyGroup')} />
              {own.map((g) => (
                <FormSelectOption key={g.uuid} value={g.uuid} label={t('assign.ownGroup', { name: g.name })} />
              ))}
              {others.map((g) => (
                <FormSelectOption key={g.uuid} value={g.uuid} label={g.name} />
              ))}
            </FormSelect>
          </FormGroup>
          <FormGroup label={t('assign.user')} fieldId="personal-assign-user-input" isRequired>
            <UserPicker groupFilter={ug} value={user} onChange={setUser} validated={fe.v('user_uuid')} />
            {fe.help('user_uuid') || (
              <FormHelperText>
                <HelperText>
                  <HelperTextItem>{t('assign.help')}</HelperTextItem>
                </HelperText>
              </FormHelperText>
            )}
          </FormGroup>
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button variant="primary" type="submit" form="personal-assign-form" isLoading={busy} isDisabled={busy || !user} data-testid="personal-assign-submit">
          {t('assign.button')}
        </Button>
        <Button variant="link" onClick={() => onClose(false)}>
          {t('common:cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
