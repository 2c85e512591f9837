/**
 * Chemical species: the periodic table symbols H..Og and conversions between
 * symbols and atomic numbers.
 *
 * SOAP treats each species as a separate density channel. Grayscale images use
 * a single species (H, Z = 1); the paper's future-work section suggests RGB
 * channels as three species (H, He, Li).
 */

/**
 * Chemical symbols indexed by atomic number minus one: `ELEMENT_SYMBOLS[0]` is
 * `"H"` (Z = 1) and `ELEMENT_SYMBOLS[117]` is `"Og"` (Z = 118).
 */
export const ELEMENT_SYMBOLS: readonly string[] = Object.freeze([
  'H',
  'He',
  'Li',
  'Be',
  'B',
  'C',
  'N',
  'O',
  'F',
  'Ne',
  'Na',
  'Mg',
  'Al',
  'Si',
  'P',
  'S',
  'Cl',
  'Ar',
  'K',
  'Ca',
  'Sc',
  'Ti',
  'V',
  'Cr',
  'Mn',
  'Fe',
  'Co',
  'Ni',
  'Cu',
  'Zn',
  'Ga',
  'Ge',
  'As',
  'Se',
  'Br',
  'Kr',
  'Rb',
  'Sr',
  'Y',
  'Zr',
  'Nb',
  'Mo',
  'Tc',
  'Ru',
  'Rh',
  'Pd',
  'Ag',
  'Cd',
  'In',
  'Sn',
  'Sb',
  'Te',
  'I',
  'Xe',
  'Cs',
  'Ba',
  'La',
  'Ce',
  'Pr',
  'Nd',
  'Pm',
  'Sm',
  'Eu',
  'Gd',
  'Tb',
  'Dy',
  'Ho',
  'Er',
  'Tm',
  'Yb',
  'Lu',
  'Hf',
  'Ta',
  'W',
  'Re',
  'Os',
  'Ir',
  'Pt',
  'Au',
  'Hg',
  'Tl',
  'Pb',
  'Bi',
  'Po',
  'At',
  'Rn',
  'Fr',
  'Ra',
  'Ac',
  'Th',
  'Pa',
  'U',
  'Np',
  'Pu',
  'Am',
  'Cm',
  'Bk',
  'Cf',
  'Es',
  'Fm',
  'Md',
  'No',
  'Lr',
  'Rf',
  'Db',
  'Sg',
  'Bh',
  'Hs',
  'Mt',
  'Ds',
  'Rg',
  'Cn',
  'Nh',
  'Fl',
  'Mc',
  'Lv',
  'Ts',
  'Og',
]);

/** Largest supported atomic number (Og). */
export const MAX_ATOMIC_NUMBER = 118;

const SYMBOL_TO_Z: ReadonlyMap<string, number> = new Map(ELEMENT_SYMBOLS.map((s, i) => [s, i + 1] as [string, number]));

/**
 * Converts a chemical symbol or an atomic number to an atomic number.
 *
 * Symbols are matched exactly and case-sensitively (`"He"`, not `"HE"` or
 * `"he"`); surrounding whitespace is not allowed. Numbers must be integers in
 * 1..118.
 *
 * @param symbolOrNumber - a symbol such as `"H"` or `"O"`, or an atomic number.
 * @returns the atomic number, 1..118.
 * @throws TypeError if the argument is neither a string nor a number, or is a
 *   non-integer number.
 * @throws RangeError if the symbol is unknown or the number is outside 1..118.
 */
export function atomicNumber(symbolOrNumber: string | number): number {
  if (typeof symbolOrNumber === 'number') {
    if (!Number.isInteger(symbolOrNumber)) {
      throw new TypeError(
        `atomicNumber: species number ${String(symbolOrNumber)} is not an integer; ` +
          `allowed are integer atomic numbers 1..${MAX_ATOMIC_NUMBER} or chemical symbols H..Og`,
      );
    }
    if (symbolOrNumber < 1 || symbolOrNumber > MAX_ATOMIC_NUMBER) {
      throw new RangeError(
        `atomicNumber: unknown species ${symbolOrNumber}; ` +
          `allowed are atomic numbers 1..${MAX_ATOMIC_NUMBER} or chemical symbols H..Og`,
      );
    }
    return symbolOrNumber;
  }
  if (typeof symbolOrNumber === 'string') {
    const z = SYMBOL_TO_Z.get(symbolOrNumber);
    if (z === undefined) {
      const hint = caseHint(symbolOrNumber);
      throw new RangeError(
        `atomicNumber: unknown species ${JSON.stringify(symbolOrNumber)}${hint}; ` +
          `allowed are chemical symbols H..Og (case-sensitive, e.g. "H", "He", "O") ` +
          `or atomic numbers 1..${MAX_ATOMIC_NUMBER}`,
      );
    }
    return z;
  }
  throw new TypeError(`atomicNumber: species must be a string symbol or a number, got ${describeType(symbolOrNumber)}`);
}

/**
 * Converts an atomic number to its chemical symbol.
 *
 * @param z - atomic number, an integer in 1..118.
 * @returns the symbol, e.g. `chemicalSymbol(8) === "O"`.
 * @throws TypeError if `z` is not an integer number.
 * @throws RangeError if `z` is outside 1..118.
 */
export function chemicalSymbol(z: number): string {
  if (typeof z !== 'number' || !Number.isInteger(z)) {
    throw new TypeError(
      `chemicalSymbol: atomic number must be an integer, got ${describeType(z)}; allowed are 1..${MAX_ATOMIC_NUMBER}`,
    );
  }
  if (z < 1 || z > MAX_ATOMIC_NUMBER) {
    throw new RangeError(`chemicalSymbol: atomic number ${z} is out of range; allowed are 1..${MAX_ATOMIC_NUMBER}`);
  }
  return ELEMENT_SYMBOLS[z - 1] as string;
}

function caseHint(s: string): string {
  const trimmed = s.trim();
  if (trimmed.length === 0) return '';
  const canonical = trimmed.charAt(0).toUpperCase() + trimmed.slice(1).toLowerCase();
  if (canonical !== s && SYMBOL_TO_Z.has(canonical)) return ` (did you mean "${canonical}"?)`;
  return '';
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return `the number ${String(v)}`;
  return `a value of type ${typeof v}`;
}
