import * as z from 'zod';

/**
 * What a page's layout looks like in a real browser, measured by a script run in the page (MEASURE_LAYOUT) and
 * parsed here: the page's width against the window's, and the box of every piece of text a reader must see. Text
 * boxes are the painted text (a Range over the element's contents), not the element, so a label cut by its own box
 * or by a scrolling ancestor shows as such.
 */

const BoxSchema = z.object({ left: z.number(), right: z.number(), top: z.number(), bottom: z.number() });
export type Box = z.infer<typeof BoxSchema>;

const TextSchema = z.object({
  selector: z.string(),
  text: z.string(),
  box: BoxSchema,
  /** The visible area left by every ancestor that clips (overflow other than visible); the window's width at most. */
  visible: BoxSchema,
  fontSizePx: z.number(),
  /** Line boxes the text takes. */
  lines: z.number(),
});

export const LayoutSchema = z.object({
  innerWidth: z.number(),
  scrollWidth: z.number(),
  bodyScrollWidth: z.number(),
  texts: z.array(TextSchema),
  rows: z.array(
    z.object({ label: z.string(), value: z.number(), name: BoxSchema, bar: BoxSchema, valueText: BoxSchema }),
  ),
  ticks: z.array(BoxSchema),
  tableBoxes: z.array(z.object({ label: z.string(), scrollWidth: z.number(), clientWidth: z.number() })),
});
export type Layout = z.infer<typeof LayoutSchema>;

/** The text a reader must be able to read on the report pages, whatever the night. */
const TEXT_SELECTORS = [
  'h1',
  'h2',
  '.eyebrow',
  '.sub',
  '.hint',
  '.missing',
  '.chart .name',
  '.chart .note',
  '.chart .value',
  '.chart .tick',
  '.figure .value',
  '.figure .label',
  'th',
  'td',
  'dt',
  'dd',
  '.reason',
  '.step .state',
  '.step .what',
  '.gave-up li',
  'footer',
];

/** Run in the page (no DOM types here: it is the page's JavaScript, as a string). Returns the Layout as JSON. */
export const MEASURE_LAYOUT = `(() => {
  const SELECTORS = ${JSON.stringify(TEXT_SELECTORS)};
  const boxOf = (r) => ({ left: r.left, right: r.right, top: r.top + scrollY, bottom: r.bottom + scrollY });
  const textBox = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return boxOf(range.getBoundingClientRect());
  };
  // Line boxes: the text's rectangles (one per line and per inline element) grouped by vertical overlap, so a
  // smaller word beside a bigger one on the same line is not a line of its own.
  const lineCount = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0).sort((a, b) => a.top - b.top);
    let lines = 0;
    let bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 1) lines += 1;
      bottom = Math.max(r.top >= bottom - 1 ? r.bottom : bottom, r.bottom);
    }
    return lines;
  };
  const visibleArea = (el) => {
    let area = { left: 0, right: innerWidth, top: -1e9, bottom: 1e9 };
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const r = a.getBoundingClientRect();
      const client = {
        left: r.left + a.clientLeft,
        right: r.left + a.clientLeft + a.clientWidth,
        top: r.top + scrollY + a.clientTop,
        bottom: r.top + scrollY + a.clientTop + a.clientHeight,
      };
      area = {
        left: Math.max(area.left, client.left),
        right: Math.min(area.right, client.right),
        top: Math.max(area.top, client.top),
        bottom: Math.min(area.bottom, client.bottom),
      };
    }
    return area;
  };
  const texts = [];
  for (const selector of SELECTORS) {
    for (const el of document.querySelectorAll(selector)) {
      const text = el.textContent.trim();
      if (text === '') continue;
      texts.push({
        selector,
        text,
        box: textBox(el),
        visible: visibleArea(el),
        fontSizePx: parseFloat(getComputedStyle(el).fontSize),
        lines: lineCount(el),
      });
    }
  }
  const rows = [...document.querySelectorAll('.chart .row')].map((row) => {
    const bar = row.querySelector('.bar');
    return {
      label: bar.getAttribute('data-label'),
      value: Number(bar.getAttribute('data-value')),
      name: textBox(row.querySelector('.name')),
      bar: boxOf(bar.getBoundingClientRect()),
      valueText: textBox(row.querySelector('.value')),
    };
  });
  return JSON.stringify({
    innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    texts,
    rows,
    ticks: [...document.querySelectorAll('.chart .tick')].map(textBox),
    tableBoxes: [...document.querySelectorAll('.table-box')].map((b) => ({
      label: b.getAttribute('aria-label') ?? '',
      scrollWidth: b.scrollWidth,
      clientWidth: b.clientWidth,
    })),
  });
})()`;

/** Labels that must stay on one line: a value, a name, a table cell broken in two reads as two words. */
const ONE_LINE_SELECTORS = [
  '.chart .name',
  '.chart .value',
  '.chart .tick',
  'td',
  'dt',
  'dd',
  '.step .state',
];

/** Texts of those selectors that take more than one line. */
export function brokenLabels(layout: Layout): string[] {
  return layout.texts
    .filter((t) => ONE_LINE_SELECTORS.includes(t.selector) && t.lines !== 1)
    .map((t) => `${t.selector} "${t.text}": ${t.lines} lines`);
}

/** Subpixel layout: a box may end a fraction of a pixel past its container without a pixel being cut. */
const EPSILON = 0.5;

/** Texts whose painted box is empty or reaches outside what the window and its clipping ancestors show. */
export function hiddenTexts(layout: Layout): string[] {
  return layout.texts
    .filter(({ box, visible }) => {
      const empty = box.right - box.left <= 0 || box.bottom - box.top <= 0;
      const cut =
        box.left < visible.left - EPSILON ||
        box.right > visible.right + EPSILON ||
        box.top < visible.top - EPSILON ||
        box.bottom > visible.bottom + EPSILON;
      return empty || cut;
    })
    .map(({ selector, text, box, visible }) => `${selector} "${text}": ${JSON.stringify({ box, visible })}`);
}

function overlaps(a: Box, b: Box): boolean {
  return (
    Math.min(a.right, b.right) - Math.max(a.left, b.left) > EPSILON &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > EPSILON
  );
}

/** Pairs of boxes, in the order given, that overlap. */
export function overlappingPairs(boxes: readonly Box[]): [number, number][] {
  const pairs: [number, number][] = [];
  boxes.forEach((a, i) => {
    boxes.forEach((b, j) => {
      if (j > i && overlaps(a, b)) pairs.push([i, j]);
    });
  });
  return pairs;
}
