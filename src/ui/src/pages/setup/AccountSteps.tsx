// The wizard's first two steps: the first admin (with the setup token), or
// signing in when one exists already; and this server's root password.
import { Checkbox, Form, FormGroup, FormHelperText, HelperText, HelperTextItem, TextInput } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { useFieldErrors } from '../../components/errors';
import { Form as F } from './model';

export interface StepProps {
  f: F;
  set: (patch: Partial<F>) => void;
  fe: ReturnType<typeof useFieldErrors>;
}

export function Help({ text }: { text: string }) {
  return (
    <FormHelperText>
      <HelperText>
        <HelperTextItem>{text}</HelperTextItem>
      </HelperText>
    </FormHelperText>
  );
}

export function AdminStep({ f, set, fe, adminExists }: StepProps & { adminExists: boolean }) {
  const { t } = useTranslation('setup');
  const noSubmit = (e: React.FormEvent) => e.preventDefault();
  return (
    <Form onSubmit={noSubmit} data-testid="setup-admin-form">
      <p>{adminExists ? t('admin.introExists') : t('admin.intro')}</p>
      {!adminExists && (
        <FormGroup label={t('admin.token')} fieldId="setup_token" isRequired>
          <TextInput
            id="setup_token"
            data-testid="setup-token"
            value={f.setup_token}
            onChange={(_e, v) => set({ setup_token: v })}
            validated={fe.v('setup_token')}
            autoComplete="off"
            spellCheck={false}
          />
          {fe.help('setup_token') || <Help text={t('admin.tokenHelp')} />}
        </FormGroup>
      )}
      <FormGroup label={t('admin.name')} fieldId="admin_name" isRequired>
        <TextInput
          id="admin_name"
          data-testid="setup-admin-name"
          value={f.name}
          onChange={(_e, v) => set({ name: v })}
          validated={fe.v('name')}
          autoComplete="username"
          spellCheck={false}
        />
        {fe.help('name') || <Help text={t('admin.nameHelp')} />}
      </FormGroup>
      <FormGroup label={t('admin.password')} fieldId="admin_password" isRequired>
        <TextInput
          id="admin_password"
          data-testid="setup-admin-password"
          type="password"
          value={f.password}
          onChange={(_e, v) => set({ password: v })}
          validated={fe.v('password')}
          autoComplete={adminExists ? 'current-password' : 'new-password'}
        />
        {fe.help('password') || <Help text={adminExists ? t('admin.passwordHelpExists') : t('admin.passwordHelp')} />}
      </FormGroup>
      {!adminExists && (
        <FormGroup label={t('admin.password2')} fieldId="admin_password2" isRequired>
          <TextInput
            id="admin_password2"
            data-testid="setup-admin-password2"
            type="password"
            value={f.password2}
            onChange={(_e, v) => set({ password2: v })}
            validated={fe.v('password2')}
            autoComplete="new-password"
          />
          {fe.help('password2') || <Help text={t('admin.password2Help')} />}
        </FormGroup>
      )}
    </Form>
  );
}

export function RootStep({ f, set, fe }: StepProps) {
  const { t } = useTranslation('setup');
  return (
    <Form onSubmit={(e) => e.preventDefault()} data-testid="setup-root-form">
      <p>{t('root.intro')}</p>
      <Checkbox
        id="set_root"
        data-testid="setup-root-set"
        label={t('root.set')}
        isChecked={f.setRoot}
        onChange={(_e, v) => set({ setRoot: v })}
        description={t('root.setHelp')}
      />
      {f.setRoot && (
        <>
          <FormGroup label={t('root.password')} fieldId="root_password" isRequired>
            <TextInput
              id="root_password"
              data-testid="setup-root-password"
              type="password"
              value={f.root_password}
              onChange={(_e, v) => set({ root_password: v })}
              validated={fe.v('root_password')}
              autoComplete="new-password"
            />
            {fe.help('root_password') || <Help text={t('root.passwordHelp')} />}
          </FormGroup>
          <FormGroup label={t('root.password2')} fieldId="root_password2" isRequired>
            <TextInput
              id="root_password2"
              data-testid="setup-root-password2"
              type="password"
              value={f.root_password2}
              onChange={(_e, v) => set({ root_password2: v })}
              validated={fe.v('root_password2')}
              autoComplete="new-password"
            />
            {fe.help('root_password2')}
          </FormGroup>
        </>
      )}
    </Form>
  );
}
