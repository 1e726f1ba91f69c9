import { useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { describeError, describeLoginError } from '../api/errors';
import type { User } from '../api/types';
import { CREDENTIAL_RULES } from '../state/credential-rules';
import { t } from '../i18n';

export function AuthScreen({ client, onAuthenticated, notice }: { client: ApiClient; onAuthenticated: (user: User) => void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [pending, setPending] = useState<'login' | 'register' | null>(null);

  const submit = async (mode: 'login' | 'register'): Promise<void> => {
    if (pending) return;
    if (username.trim() === '' || password === '') {
      setError(t('auth.missing'));
      return;
    }
    setPending(mode);
    setError(null);
    try {
      const user = mode === 'login' ? await client.login(username.trim(), password) : await client.register(username.trim(), password);
      onAuthenticated(user);
    } catch (e) {
      setError(mode === 'login' ? describeLoginError(e) : describeError(e));
      setPending(null);
    }
  };

  return (
    <main class="auth">
      <form
        class="auth-card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit('login');
        }}
      >
        <h1>{t('app.name')}</h1>
        <p class="muted">{t('auth.intro')}</p>
        <label>
          {t('auth.username')}
          <input name="username" autoComplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} autoFocus />
        </label>
        <label>
          {t('auth.password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            aria-describedby="account-rules"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <p id="account-rules" class="muted hint">
          {t('auth.rules', CREDENTIAL_RULES)}
        </p>
        {error && (
          <p role="alert" class="alert inline">
            {error}
          </p>
        )}
        <div class="auth-actions">
          <button type="submit" class="button primary" disabled={pending !== null}>
            {pending === 'login' ? t('auth.loggingIn') : t('auth.logIn')}
          </button>
          <button type="button" class="button ghost" disabled={pending !== null} onClick={() => void submit('register')}>
            {t('auth.createAccount')}
          </button>
        </div>
      </form>
    </main>
  );
}
