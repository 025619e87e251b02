// Who is acting: a signed-in admin (delegated token), an app (app-only token), or the local operator.
export type Actor =
  | { kind: 'user'; id: string; displayName: string; upn: string; roles: string[]; scopes: string[] }
  | { kind: 'app'; id: string; displayName: string; roles: string[]; permissions: string[] }
  | { kind: 'system'; id: 'system'; displayName: string };
