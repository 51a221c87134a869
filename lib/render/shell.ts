/**
 * One POSIX shell word that stands for exactly `value`: single-quoted, with
 * each `'` written as `'\''`. Nothing inside is expanded by the shell.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line of quoted words, for `sh -c` (Terraform's local-exec). */
export function shellCommand(...words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
