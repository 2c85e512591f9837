/** Figures rendered without a browser (vega -> SVG -> resvg PNG) and the HTML report. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { renderFigure } from '../lib/report/figures';
import { writeReport } from '../lib/report/html';

describe('figures', () => {
  it('renders a Vega-Lite spec to an SVG with its title and a PNG of the right size with marks', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'soapix-fig-'));
    const spec = {
      title: 'Zebra test title',
      width: 200,
      height: 100,
      data: {
        values: [
          { a: 'x', b: 3 },
          { a: 'y', b: 7 },
        ],
      },
      mark: 'bar',
      encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } },
    };
    const r = await renderFigure(spec, path.join(dir, 'bars'));
    const svg = readFileSync(r.svg, 'utf8');
    expect(svg).toContain('Zebra test title');
    const svgWidth = Number(/<svg[^>]*width="([\d.]+)"/.exec(svg)![1]);
    const { data, info } = await sharp(r.png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(Math.round(svgWidth * 2));
    let nonWhite = 0;
    for (let i = 0; i < data.length; i += info.channels)
      if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) nonWhite++;
    expect(nonWhite).toBeGreaterThan(1000);
  });

  it('writes a report.html that references its figures and tables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'soapix-report-'));
    const file = await writeReport(dir, {
      title: 'T <1>',
      sections: [
        { heading: 'S', text: 'hello', figures: ['a.png'], table: { columns: ['k', 'v'], rows: [['acc', 0.5]] } },
      ],
    });
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<img src="a.png"');
    expect(html).toContain('T &lt;1&gt;');
    expect(html).toContain('<td>0.5</td>');
  });
});
