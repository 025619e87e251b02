// A refusal the server words about one property goes to that property's field: Graph names it in quotes
// ("Property 'mailNickname' contains…", "…property 'status/errorCode'…"). Anything else is the form's.
import { ApiError } from '../api';

export interface FieldErrors {
  /** field key → message */
  fields: Record<string, string>;
  /** a refusal no field owns */
  form?: unknown;
}

/** Which of `fields` (field key → the server's property names for it) the refusal names, if one. */
export function refusalAt(error: unknown, fields: Record<string, readonly string[]>): FieldErrors {
  if (error instanceof ApiError && error.status === 400) {
    const text = error.message.toLowerCase();
    for (const [key, names] of Object.entries(fields)) {
      if (names.some((n) => text.includes(`'${n.toLowerCase()}`) || text.includes(`${n.toLowerCase()}'`) || text.includes(` ${n.toLowerCase()} `))) return { fields: { [key]: error.message } };
    }
  }
  return { fields: {}, form: error };
}

/** A Field's validation props for its message, if it has one. */
export function fieldState(message: string | undefined) {
  return { validationMessage: message, validationState: message ? ('error' as const) : ('none' as const) };
}

/** A string as an OData string literal ('' escapes a quote). */
export function odataString(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A datetime-local input's value as an ISO instant (the browser's time zone), or undefined when empty. */
export function instant(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An ISO date-time as a person reads it, in the browser's locale. */
export function when(v: string | null | undefined): string {
  return v ? new Date(v).toLocaleString() : '—';
}
