// Password rules (spec D13, NIST 800-63B-4): length 8..256 (minimum configurable), not a common
// password, not the user name, not the previous password; no composition rules.
const COMMON = new Set(
  `password password1 password123 passw0rd p@ssw0rd p@ssword 12345678 123456789 1234567890 qwerty123 qwertyuiop
iloveyou sunshine1 princess1 football1 baseball1 welcome1 welcome123 admin123 administrator letmein1 trustno1
11111111 00000000 abc12345 abcd1234 1q2w3e4r 1qaz2wsx zaq12wsx monkey123 dragon123 master123 changeme changeme1
qwerty12 asdfghjk superman batman123 starwars summer2024 summer2025 summer2026 winter2024 winter2025 winter2026
spring2026 autumn2026 fall2026 company1 contoso1 contoso123 microsoft1 azure123 office365 secret123 default1
password welcome letmein qwerty iloveyou sunshine princess football baseball administrator monkey dragon master
superman batman starwars summer winter spring autumn contoso microsoft azure office secret company trustno changeme`
    .split(/\s+/)
    .filter(Boolean),
);

// Entra's banned-password check normalises first (lower case, common character substitutions), so
// "P@ssw0rd2026!" counts as "password". Here: substitutions, then the blocked word with leading and trailing
// digits and symbols stripped.
const SUBSTITUTIONS: Record<string, string> = { '0': 'o', '1': 'l', '!': 'i', '3': 'e', '4': 'a', '@': 'a', $: 's', '5': 's', '7': 't', '+': 't', '|': 'l' };

function normalised(pw: string): string[] {
  const lower = pw.toLowerCase();
  const stripped = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  const substituted = [...stripped].map((c) => SUBSTITUTIONS[c] ?? c).join('');
  return [lower, stripped, substituted];
}

export function checkNewPassword(pw: string, opts: { minLength: number; previous?: string; userName?: string }): string | undefined {
  // NIST 800-63B counts characters (code points), not UTF-16 units
  const length = [...pw].length;
  if (length < opts.minLength) return `Your password must be at least ${opts.minLength} characters.`;
  if (length > 256) return 'Your password must be at most 256 characters.';
  if (normalised(pw).some((p) => COMMON.has(p))) return 'Choose a password that is harder for people to guess.';
  // like Windows' rule: a name shorter than 3 characters is not checked (it would refuse nearly everything)
  const name = opts.userName?.split('@')[0]?.toLowerCase() ?? '';
  if (name.length >= 3 && pw.toLowerCase().includes(name)) return "Your password can't contain your user name.";
  if (opts.previous !== undefined && pw === opts.previous) return "You can't reuse your current password.";
  return undefined;
}
