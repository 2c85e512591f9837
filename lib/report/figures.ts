/**
 * Figures without a browser: a Vega-Lite spec is compiled to Vega, rendered headless to SVG by
 * vega's View (renderer 'none'), and rasterised to PNG with resvg using a font file (DejaVu Sans
 * from Debian's fonts-dejavu-core, or the file named by SOAPIX_FONT), so text renders the same
 * everywhere and never depends on a system font lookup.
 *
 * vega and vega-lite are ESM-only packages; they are loaded with a real dynamic import() (kept
 * as such by tsc's Node16 module mode), once, on first use.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** A Vega-Lite spec (a plain object: `{ $schema?, data, mark, encoding, ... }`). */
export type VegaLiteSpec = Record<string, unknown>;

/** The files one figure was written to. */
export interface RenderedFigure {
  svg: string;
  png: string;
}

/** Options of {@link renderFigure}. */
export interface RenderOptions {
  /** PNG pixels per SVG pixel. Default 2. */
  scale?: number;
  /** PNG background colour. Default white. */
  background?: string;
}

/** The font family figures use (configured into every spec unless the spec sets its own). */
export const FIGURE_FONT_FAMILY = 'DejaVu Sans';

const FONT_DIRS = [
  '/usr/share/fonts/truetype/dejavu',
  '/usr/share/fonts/dejavu',
  '/usr/share/fonts/TTF',
  '/usr/local/share/fonts',
];
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

/**
 * The font files passed to resvg: $SOAPIX_FONT (a path, or several separated by ':'), else
 * DejaVu Sans (regular and bold) from the usual Linux font folders. Empty when none is found.
 */
export function figureFontFiles(): string[] {
  const env = process.env['SOAPIX_FONT'];
  if (env) return env.split(path.delimiter).filter((f) => f && existsSync(f));
  for (const dir of FONT_DIRS) {
    const files = FONT_FILES.map((f) => path.join(dir, f)).filter((f) => existsSync(f));
    if (files.length) return files;
  }
  return [];
}

interface VegaModules {
  vega: typeof import('vega', { with: { 'resolution-mode': 'import' } });
  vl: typeof import('vega-lite', { with: { 'resolution-mode': 'import' } });
}

let modules: Promise<VegaModules> | undefined;

function loadVega(): Promise<VegaModules> {
  modules ??= (async () => {
    const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
    return { vega, vl };
  })();
  return modules;
}

let warnedNoFont = false;

/** Renders a Vega-Lite spec to an SVG string (no files written). */
export async function specToSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega, vl } = await loadVega();
  const config = (spec['config'] as Record<string, unknown> | undefined) ?? {};
  const withFont: VegaLiteSpec = { ...spec, config: { font: FIGURE_FONT_FAMILY, background: 'white', ...config } };
  // vega-lite's TopLevelSpec type is large; the spec is checked by the compiler at run time.
  const compiled = vl.compile(withFont as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG string to PNG bytes with resvg and the figure font. */
export function svgToPng(svg: string, options: RenderOptions = {}): Buffer {
  // resvg-js is CommonJS (a native addon); required lazily so plain soapix never loads it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const fontFiles = figureFontFiles();
  if (fontFiles.length === 0 && !warnedNoFont) {
    warnedNoFont = true;
    process.stderr.write(
      'soapix: warning: no figure font found (install fonts-dejavu-core or set SOAPIX_FONT); trying system fonts, text may be missing\n',
    );
  }
  const resvg = new Resvg(svg, {
    background: options.background ?? 'white',
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    font:
      fontFiles.length > 0
        ? {
            fontFiles,
            loadSystemFonts: false,
            defaultFontFamily: FIGURE_FONT_FAMILY,
            sansSerifFamily: FIGURE_FONT_FAMILY,
          }
        : { loadSystemFonts: true, defaultFontFamily: FIGURE_FONT_FAMILY },
  });
  return resvg.render().asPng();
}

/**
 * Renders a Vega-Lite spec to `outBase.svg` and `outBase.png` (folders created as needed) and
 * resolves with the two paths.
 */
export async function renderFigure(
  spec: VegaLiteSpec,
  outBase: string,
  options: RenderOptions = {},
): Promise<RenderedFigure> {
  const svgText = await specToSvg(spec);
  const png = svgToPng(svgText, options);
  const svgPath = `${outBase}.svg`;
  const pngPath = `${outBase}.png`;
  await mkdir(path.dirname(path.resolve(svgPath)), { recursive: true });
  await writeFile(svgPath, svgText);
  await writeFile(pngPath, png);
  return { svg: svgPath, png: pngPath };
}

/** Ten well-separated colours (Tableau 10), one per class 0..9. */
export const CLASS_COLORS: readonly string[] = Object.freeze([
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
]);
