// Who is signed in: restores the session from the refresh cookie, else shows the auth screen. A
// refused token means logging in again; an API that cannot be reached means Retry, not the login form.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, localSessionHint } from '../api/client';
import { MESSAGES, describeError, isTransient } from '../api/errors';
import type { User } from '../api/types';
import { AuthScreen } from './AuthScreen';
import { Shell } from './Shell';
import { useLocale } from './use-locale';
import { t } from '../i18n';

type AuthState =
  | { kind: 'restoring' }
  | { kind: 'unreachable'; message: string; retrying: boolean }
  | { kind: 'anonymous'; notice: string | null }
  | { kind: 'signed-in'; user: User };

export function App() {
  // Everything below re-renders in the new language when Settings changes it.
  useLocale();
  const [auth, setAuth] = useState<AuthState>({ kind: 'restoring' });
  const client = useMemo(
    () => new ApiClient({ hint: localSessionHint(), onSessionExpired: () => setAuth({ kind: 'anonymous', notice: MESSAGES.sessionExpired }) }),
    [],
  );

  const restore = useCallback(() => {
    client
      .restore()
      .then((user) => setAuth(user ? { kind: 'signed-in', user } : { kind: 'anonymous', notice: null }))
      .catch((e: unknown) =>
        // The refresh cookie was not refused, only not checked: keep the session and offer to try again.
        setAuth(isTransient(e) ? { kind: 'unreachable', message: describeError(e), retrying: false } : { kind: 'anonymous', notice: describeError(e) }),
      );
  }, [client]);
  useEffect(restore, [restore]);

  if (auth.kind === 'restoring') return <div class="splash" aria-busy="true" />;
  if (auth.kind === 'unreachable') {
    return (
      <Unreachable
        message={auth.message}
        retrying={auth.retrying}
        onRetry={() => {
          setAuth({ ...auth, retrying: true });
          restore();
        }}
      />
    );
  }
  if (auth.kind === 'anonymous') return <AuthScreen client={client} notice={auth.notice} onAuthenticated={(user) => setAuth({ kind: 'signed-in', user })} />;
  return (
    <Shell
      client={client}
      user={auth.user}
      onLogout={() => {
        void client.logout();
        history.replaceState(null, '', '/');
        setAuth({ kind: 'anonymous', notice: null });
      }}
    />
  );
}

function Unreachable({ message, retrying, onRetry }: { message: string; retrying: boolean; onRetry: () => void }) {
  return (
    <main class="auth">
      <div class="auth-card">
        <h1>{t('app.name')}</h1>
        <p role="alert">
          {message} {t('app.stillSignedIn')}
        </p>
        <div class="auth-actions">
          <button type="button" class="button primary" disabled={retrying} onClick={onRetry} autoFocus>
            {retrying ? t('app.retrying') : t('app.retry')}
          </button>
        </div>
      </div>
    </main>
  );
}
