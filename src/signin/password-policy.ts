// Password rules (spec D13, NIST 800-63B-4): length 8..256 (minimum configurable), not a common
// password, not the user name, not the previous password; no composition rules.
const COMMON = new Set(
  `password password1 password123 passw0rd p@ssw0rd p@ssword 12345678 123456789 1234567890 qwerty123 qwertyuiop
iloveyou sunshine1 princess1 football1 baseball1 welcome1 welcome123 admin123 administrator letmein1 trustno1
11111111 00000000 abc12345 abcd1234 1q2w3e4r 1qaz2wsx zaq12wsx monkey123 dragon123 master123 changeme changeme1
qwerty12 asdfghjk superman batman123 starwars summer2024 summer2025 summer2026 winter2024 winter2025 winter2026
spring2026 autumn2026 fall2026 company1 contoso1 contoso123 microsoft1 azure123 office365 secret123 default1`
    .split(/\s+/)
    .filter(Boolean),
);

export function checkNewPassword(pw: string, opts: { minLength: number; previous?: string; userName?: string }): string | undefined {
  if (pw.length < opts.minLength) return `Your password must be at least ${opts.minLength} characters.`;
  if (pw.length > 256) return 'Your password must be at most 256 characters.';
  if (COMMON.has(pw.toLowerCase())) return 'Choose a password that is harder for people to guess.';
  if (opts.userName && pw.toLowerCase().includes(opts.userName.split('@')[0]!.toLowerCase())) return "Your password can't contain your user name.";
  if (opts.previous !== undefined && pw === opts.previous) return "You can't reuse your current password.";
  return undefined;
}
