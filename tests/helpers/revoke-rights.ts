// The who-may-act table of Revoke sessions, written out literally (spec §10, entra-research §10: "who can
// reset passwords", which is also who may invalidate refresh tokens): actor role → the target roles it may
// act on. Shared by the tests of the actions that take its rights (ending one session or grant, the
// playbook); never read from the code's own tables.
export const GA = 'Global Administrator';
export const PAA = 'Privileged Authentication Administrator';
export const AA = 'Authentication Administrator';
export const UA = 'User Administrator';
export const HA = 'Helpdesk Administrator';
export const PA = 'Password Administrator';
export const APA = 'Authentication Policy Administrator';
export const GR = 'Global Reader';
export const DR = 'Directory Readers';
export const RR = 'Reports Reader';
/** a target without a directory role */
export const PLAIN = '(plain user)';

export const REVOKE_TARGETS = [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR] as const;

export const REVOKE_TABLE: Record<string, readonly string[]> = {
  [GA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR],
  [PAA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR],
  [AA]: [PLAIN, AA, PA, DR, RR],
  [UA]: [PLAIN, UA, HA, PA, DR, RR],
  [HA]: [PLAIN, HA, PA, DR, RR],
  [PA]: [PLAIN, PA, DR],
  [APA]: [],
  [GR]: [],
};
