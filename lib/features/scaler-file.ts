/**
 * Fitting the robust scaler (median / IQR, scaler.ts) on a finished features .npy file, loaded
 * whole, and saving it as scaler.json next to it. Refused above MAX_SCALER_VALUES values: the
 * paper fits on a random sample of centres instead (Algorithm 3).
 */
import * as path from 'node:path';
import { readNpy } from '../io/npy';
import { RobustScaler, type RobustScalerJSON } from './scaler';
import { SCALER_FILE } from './run-files';

/** Largest number of feature values a scaler fit loads into memory (2^28). */
export const MAX_SCALER_VALUES = 2 ** 28;

/**
 * Fits a RobustScaler on a features .npy file, loaded whole: refused above
 * {@link MAX_SCALER_VALUES} values.
 */
export async function fitScalerOnFile(filePath: string, rows: number, cols: number): Promise<RobustScaler> {
  const values = rows * cols;
  if (values > MAX_SCALER_VALUES) {
    throw new Error(
      `--fit-scaler: the features hold ${rows} x ${cols} = ${values} values, more than the ${MAX_SCALER_VALUES} (2^28) ` +
        'that are fitted in memory; fit the scaler on a random sample of centres instead ' +
        '(soapix featurize --sample T --seed S --fit-scaler, e.g. --sample 120000 as in the paper)',
    );
  }
  if (rows < 1) throw new Error('--fit-scaler: there are no feature rows to fit on (every image was empty)');
  const arr = await readNpy(filePath);
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64')
    throw new Error(`${filePath}: expected float features, found ${arr.dtype}`);
  return new RobustScaler().fit(arr.data, rows, cols);
}

/**
 * Fits the robust scaler on a finished features file, saves it as `scaler.json` in `dir` (recorded
 * in `committed` so a failed run can remove it) and returns its JSON for the meta file.
 */
export async function fitAndSaveScaler(
  dir: string,
  featuresFile: string,
  rows: number,
  cols: number,
  committed: string[],
): Promise<RobustScalerJSON> {
  const scaler = await fitScalerOnFile(path.join(dir, featuresFile), rows, cols);
  const scalerPath = path.join(dir, SCALER_FILE);
  await scaler.save(scalerPath);
  committed.push(scalerPath);
  return scaler.toJSON();
}
