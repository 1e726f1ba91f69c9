// Who is signed in: restores the session from the refresh token, else shows the auth screen.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, localTokenStore } from '../api/client';
import { MESSAGES, describeError } from '../api/errors';
import type { User } from '../api/types';
import { AuthScreen } from './AuthScreen';
import { Shell } from './Shell';

type AuthState = { kind: 'restoring' } | { kind: 'anonymous'; notice: string | null } | { kind: 'signed-in'; user: User };

export function App() {
  const [auth, setAuth] = useState<AuthState>({ kind: 'restoring' });
  const client = useMemo(
    () => new ApiClient({ store: localTokenStore(), onSessionExpired: () => setAuth({ kind: 'anonymous', notice: MESSAGES.sessionExpired }) }),
    [],
  );

  useEffect(() => {
    client
      .restore()
      .then((user) => setAuth(user ? { kind: 'signed-in', user } : { kind: 'anonymous', notice: null }))
      .catch((e: unknown) => setAuth({ kind: 'anonymous', notice: describeError(e) }));
  }, [client]);

  if (auth.kind === 'restoring') return <div class="splash" aria-busy="true" />;
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
