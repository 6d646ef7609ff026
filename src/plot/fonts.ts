/** Font files for rendering plot text to PNG without a browser. */
import { existsSync } from 'node:fs';

/** Where Debian's fonts-dejavu-core (and a few common alternatives) put a sans-serif font. */
const CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

/**
 * A sans-serif font file for resvg: `QPEFT_PLOT_FONT` if set, else the first of the usual places that
 * exists, else `undefined` (PNG text then uses whatever system fonts resvg finds, possibly none: install
 * Debian's `fonts-dejavu-core` to get labels; the SVG output is unaffected).
 */
export function plotFontFile(): string | undefined {
  const env = process.env.QPEFT_PLOT_FONT;
  if (env && existsSync(env)) return env;
  return CANDIDATES.find((p) => existsSync(p));
}
