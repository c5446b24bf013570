/** One API key as a keys file or the config gives it: its id and the hex sha256 of the key. */
export interface StoredKey {
  readonly id: string;
  readonly sha256: string;
}

const LINE = /^([A-Za-z0-9_.:@-]{1,128})\s+sha256:([0-9a-fA-F]{64})$/;

/**
 * An API keys file (`api_key.keys_file`): one key a line, `ID sha256:HEX`; blank lines and lines
 * starting with # are skipped. Every bad line and repeated id is a problem with its line number.
 */
export function parseKeysFile(text: string): { keys: StoredKey[]; problems: string[] } {
  const keys: StoredKey[] = [];
  const problems: string[] = [];
  const ids = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (m === null) {
      problems.push(`line ${i + 1}: expected "ID sha256:<64 hex digits>"`);
      return;
    }
    if (ids.has(m[1])) problems.push(`line ${i + 1}: duplicate key id "${m[1]}"`);
    ids.add(m[1]);
    keys.push({ id: m[1], sha256: m[2].toLowerCase() });
  });
  return { keys, problems };
}
