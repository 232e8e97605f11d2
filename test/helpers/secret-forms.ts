/**
 * The forms a secret can leak in: as given, and its bytes as base64, base64url and hex (a key
 * given in one form and logged after decoding shows up in another). Short fragments are not
 * searched (they would match by chance); a long PEM key is searched by its body lines too.
 */

/** One secret a run handles, by name. */
export interface Secret {
  readonly name: string;
  /** The text as configured or sent. */
  readonly text: string;
  /** The secret's raw bytes, when the text encodes bytes (a base64 key, a PEM key's DER). */
  readonly bytes?: Buffer;
}

/** Every string whose presence means `secret` leaked. */
export function leakForms(secret: Secret): string[] {
  const forms = new Set<string>([secret.text]);
  const bytes = secret.bytes ?? Buffer.from(secret.text, 'utf8');
  forms.add(bytes.toString('base64').replace(/=+$/, ''));
  forms.add(bytes.toString('base64url'));
  forms.add(bytes.toString('hex'));
  forms.add(bytes.toString('hex').toUpperCase());
  // A PEM file's body lines (64 base64 characters each) leak it as well as the whole does.
  for (const line of secret.text.split('\n')) if (line.length >= 32 && !line.startsWith('-----')) forms.add(line);
  return [...forms].filter((form) => form.length >= 16);
}

/** The secrets found in `text`, each with the form it was found in. */
export function leaksIn(text: string, secrets: readonly Secret[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (const form of leakForms(secret)) {
      if (text.includes(form)) found.push(`${secret.name} (as ${form.slice(0, 12)}…)`);
    }
  }
  return found;
}
