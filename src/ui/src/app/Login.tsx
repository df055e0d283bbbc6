// Sign in: PatternFly's login page, the language switch, the envelope's
// message on failure.
import { ListItem, LoginForm, LoginPage } from '@patternfly/react-core';
import { FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, setSession } from '../api';
import { errorText } from '../components/errors';
import { LangSwitch } from './LangSwitch';

export function Login() {
  const { t } = useTranslation('login');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const tok = await call<{ access_token: string; refresh_token: string }>('POST', '/api/v1/login', { name, password }, { auth: false });
      setSession({ name, access_token: tok.access_token, refresh_token: tok.refresh_token });
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <LoginPage loginTitle={t('title')} loginSubtitle={t('subtitle')} brandImgSrc={undefined} footerListItems={
        <ListItem>
          <LangSwitch />
        </ListItem>
      } textContent={t('about')}>
      {/* PatternFly draws the box's title as h2: the page's own h1 (inside the main landmark) is for screen readers. */}
      <h1 className="pf-v6-screen-reader">{t('heading')}</h1>
      <LoginForm
        showHelperText={!!error}
        helperText={error}
        helperTextIcon={undefined}
        usernameLabel={t('name')}
        usernameValue={name}
        onChangeUsername={(_e, v) => setName(v)}
        isValidUsername={!error}
        passwordLabel={t('password')}
        passwordValue={password}
        onChangePassword={(_e, v) => setPassword(v)}
        isValidPassword={!error}
        isShowPasswordEnabled
        showPasswordAriaLabel={t('showPassword')}
        hidePasswordAriaLabel={t('hidePassword')}
        loginButtonLabel={t('submit')}
        isLoginButtonDisabled={busy || !name || !password}
        onLoginButtonClick={submit}
      />
    </LoginPage>
  );
}
