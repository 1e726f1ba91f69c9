import { useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { describeError, describeLoginError } from '../api/errors';
import type { User } from '../api/types';
import { PASSWORD_RULE, USERNAME_RULE } from '../state/credential-rules';

export function AuthScreen({ client, onAuthenticated, notice }: { client: ApiClient; onAuthenticated: (user: User) => void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [pending, setPending] = useState<'login' | 'register' | null>(null);

  const submit = async (mode: 'login' | 'register'): Promise<void> => {
    if (pending) return;
    if (username.trim() === '' || password === '') {
      setError('Enter a username and a password.');
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
        <h1>Free Chat</h1>
        <p class="muted">Log in, or create an account to start chatting.</p>
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} autoFocus />
        </label>
        <label>
          Password
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
          New accounts: a username of {USERNAME_RULE}; a password of {PASSWORD_RULE}.
        </p>
        {error && (
          <p role="alert" class="alert inline">
            {error}
          </p>
        )}
        <div class="auth-actions">
          <button type="submit" class="button primary" disabled={pending !== null}>
            {pending === 'login' ? 'Logging in…' : 'Log in'}
          </button>
          <button type="button" class="button ghost" disabled={pending !== null} onClick={() => void submit('register')}>
            Create account
          </button>
        </div>
      </form>
    </main>
  );
}
