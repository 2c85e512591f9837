/**
 * Reads the results.json of a finished run for commands that join runs (`soapix benchmark compare`,
 * `soapix experiment compression-combine`): a folder or the file itself, with a message that says
 * which run to give when the file is missing and that it is truncated when it does not parse. What
 * the JSON must hold is the caller's check.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { UsageError } from './usage-error';

/**
 * The parsed results.json of `dirOrFile` and its path.
 *
 * @param producer - the command whose run is expected, for the message (e.g. `soapix benchmark invariance`).
 * @throws UsageError when the file cannot be read or does not hold a JSON object.
 */
export async function readResultsJson(dirOrFile: string, producer: string): Promise<{ file: string; json: object }> {
  const file = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, 'results.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read ${file}: ${(e as Error).message} (give the folder of a finished '${producer}' run)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON (truncated or corrupt?): ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`${file} is not the results.json of '${producer}' (no JSON object)`);
  }
  return { file, json };
}
