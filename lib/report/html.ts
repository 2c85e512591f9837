/**
 * One self-contained `report.html` per experiment run: headings, text, figures (PNG files next to
 * the report, referenced by relative path) and tables. No scripts, no external style sheets.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** A table of a report section. */
export interface ReportTable {
  columns: string[];
  rows: (string | number)[][];
}

/** One section of a report. */
export interface ReportSection {
  heading: string;
  /** Paragraphs; blank lines separate paragraphs. Plain text (HTML is escaped). */
  text?: string;
  /** PNG paths relative to the report's folder. */
  figures?: string[];
  table?: ReportTable;
}

/** What {@link writeReport} writes. */
export interface Report {
  title: string;
  sections: ReportSection[];
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function formatCell(v: string | number): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return String(v);
    return Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toPrecision(4) : v.toFixed(4).replace(/\.?0+$/, '');
  }
  return v;
}

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #4e79a7; padding-bottom: .2em; }
h2 { margin-top: 2em; color: #333; }
figure { display: inline-block; margin: .5em; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #666; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f0f3f8; }
td:first-child, th:first-child { text-align: left; }
footer { margin-top: 3em; font-size: .8em; color: #888; }
`;

/** The HTML of a report (what {@link writeReport} writes). */
export function renderReportHtml(report: Report): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  out.push(`<title>${escapeHtml(report.title)}</title>`, `<style>${STYLE}</style>`, '</head>', '<body>');
  out.push(`<h1>${escapeHtml(report.title)}</h1>`);
  for (const s of report.sections) {
    out.push('<section>', `<h2>${escapeHtml(s.heading)}</h2>`);
    if (s.text) {
      for (const para of s.text.split(/\n\s*\n/))
        if (para.trim()) out.push(`<p>${escapeHtml(para.trim()).replace(/\n/g, '<br>')}</p>`);
    }
    if (s.table) {
      out.push(
        '<table>',
        '<thead><tr>' + s.table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('') + '</tr></thead>',
        '<tbody>',
      );
      for (const row of s.table.rows)
        out.push('<tr>' + row.map((c) => `<td>${escapeHtml(formatCell(c))}</td>`).join('') + '</tr>');
      out.push('</tbody>', '</table>');
    }
    for (const f of s.figures ?? []) {
      const src = f.split(path.sep).join('/');
      out.push(
        `<figure><img src="${escapeHtml(src)}" alt="${escapeHtml(path.basename(f))}"><figcaption>${escapeHtml(src)}</figcaption></figure>`,
      );
    }
    out.push('</section>');
  }
  out.push(`<footer>Written by soapix on ${escapeHtml(new Date().toISOString())}.</footer>`, '</body>', '</html>', '');
  return out.join('\n');
}

/** Writes `dir/report.html` (creating `dir`) and resolves with its path. */
export async function writeReport(dir: string, report: Report): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'report.html');
  await writeFile(file, renderReportHtml(report));
  return file;
}
