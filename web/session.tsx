/**
 * The browser session: the API token, entered once and kept in sessionStorage (gone when the
 * tab closes; never in a URL or a cookie), and the client that sends it. A token the API
 * refuses later signs the session out with the reason.
 */
import {
  createContext,
  type FormEvent,
  type ReactNode,
  useContext,
  useMemo,
  useState,
} from "react";
import { ApiClient, TokenRefused, Unreachable } from "./api.js";

const TOKEN_KEY = "modeldrop.token";

interface Session {
  client: ApiClient;
  signOut: (reason?: string) => void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside <SessionGate>");
  return session;
}

function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Shows the sign-in form until a token the API accepts is entered, then the children. */
export function SessionGate({ children }: { children: ReactNode }) {
  const [token, setToken] = useState(storedToken);
  const [reason, setReason] = useState<string>();
  // One client per token, so live views keep polling across re-renders.
  const session = useMemo<Session | undefined>(
    () =>
      token
        ? {
            client: new ApiClient(token),
            signOut: (why) => {
              sessionStorage.removeItem(TOKEN_KEY);
              setReason(why);
              setToken(undefined);
            },
          }
        : undefined,
    [token],
  );
  if (!session)
    return (
      <SignIn
        reason={reason}
        onToken={(accepted) => {
          sessionStorage.setItem(TOKEN_KEY, accepted);
          setReason(undefined);
          setToken(accepted);
        }}
      />
    );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

function SignIn({
  reason,
  onToken,
}: {
  reason?: string | undefined;
  onToken: (t: string) => void;
}) {
  const [value, setValue] = useState("");
  const [error, setError] = useState(reason);
  const [busy, setBusy] = useState(false);
  const local = ["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const token = value.trim();
    if (!token) return setError("enter the API token");
    setBusy(true);
    try {
      // Any authenticated route proves the token; the smallest page of runs is the cheapest.
      await new ApiClient(token).get("listRuns", { query: { limit: 1 } });
      onToken(token);
    } catch (failure) {
      setError(
        failure instanceof TokenRefused
          ? "The API refused this token: it is not the API token of this deployment."
          : failure instanceof Unreachable
            ? `${failure.message}. Is \`npx modeldrop up\` running?`
            : String(failure instanceof Error ? failure.message : failure),
      );
    } finally {
      setBusy(false);
    }
  }
  return (
    <main id="main" className="sign-in">
      <h1>modeldrop</h1>
      <form onSubmit={submit} noValidate>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "token-error token-help" : "token-help"}
        />
        {error && (
          <p id="token-error" className="field-error" role="alert">
            {error}
          </p>
        )}
        <p id="token-help" className="help">
          {local
            ? "The local cloud keeps it in .modeldrop/api-token; `npx modeldrop token` prints it."
            : "`modeldrop deploy` stored it as the stack's SecureString (ApiTokenParameterName)."}{" "}
          It stays in this tab only.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
