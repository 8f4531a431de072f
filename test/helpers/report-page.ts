// What a figure of report.html shows in a browser page (playwright): its SVG's size, how many marks and
// labels it drew, the pixel counts of its decoded images (0 where one failed), its caption and links.
import type { Page } from 'playwright-core';

export interface FigureInfo {
  width: number; height: number; marks: number; texts: number;
  /** naturalWidth × naturalHeight of each embedded image, 0 where it did not decode */
  imageSizes: number[];
  caption: string; links: string[];
}

export function figureInfo(page: Page, id: string): Promise<FigureInfo> {
  return page.$eval(`#fig-${id}`, async (fig) => {
    const svg = fig.querySelector('.chart > svg') as SVGSVGElement | null;
    const box = svg?.getBoundingClientRect();
    const images = svg ? Array.from(svg.querySelectorAll('image')).map((im) => im.getAttribute('href') ?? im.getAttribute('xlink:href') ?? '') : [];
    const imageSizes = await Promise.all(images.map(async (src) => {
      const img = new Image();
      img.src = src;
      try { await img.decode(); } catch { return 0; }
      return img.naturalWidth * img.naturalHeight;
    }));
    return {
      width: box?.width ?? 0, height: box?.height ?? 0,
      marks: svg ? svg.querySelectorAll('.role-mark > *').length : 0,
      texts: svg ? Array.from(svg.querySelectorAll('text')).filter((t) => (t.textContent ?? '').trim()).length : 0,
      imageSizes,
      caption: fig.querySelector('figcaption')?.textContent ?? '',
      links: Array.from(fig.querySelectorAll('figcaption a')).map((a) => a.getAttribute('href') ?? ''),
    };
  });
}
