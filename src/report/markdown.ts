/**
 * Writing markdown that GitHub renders as meant: text from Azure made safe in a table cell, IDs
 * short enough not to wrap onto four lines, long words and URLs that can break, and a writer that
 * stays within a byte budget.
 */

/** Text from Azure or a payload, safe in a Markdown table cell (and anywhere else). */
export function cell(text: string): string {
  return text
    .replace(/[&<>]/g, c => `&#${c.charCodeAt(0)};`)
    .replace(/\|/g, '\\|')
    .replace(/\s+/g, ' ')
    .trim();
}

export function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |\n`;
}

/**
 * A long CamelCase code (`SpotPriceGreaterThanProvidedMaxPrice`) with places to break, `<wbr>`
 * (which GitHub keeps), so that it does not set the width of its column. Text must be safe already.
 */
export function breakableCode(text: string): string {
  return text.replace(/\S{21,}/g, word => word.replace(/([a-z])(?=[A-Z])/g, '$1<wbr>'));
}

/** A table's header and separator; `right` marks the columns of numbers. */
export function tableHead(columns: string[], right: number[] = []): string {
  return `${row(columns)}|${columns.map((_, i) => (right.includes(i) ? '---:' : '---')).join('|')}|\n`;
}

/**
 * A subscription GUID as its first block, which is what people recognise: the full ID is in the
 * result file and in the details.
 */
export function shortSubscription(id: string): string {
  return /^[0-9a-f]{8}-/i.test(id) ? `${id.slice(0, 8)}…` : id;
}

/**
 * Azure's text with each URL as a link whose text is short (`aka.ms/ProdportalCRP…`): a long URL
 * has no place to break and would widen its table or the page, and the link still works.
 */
export function linked(text: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"|]+/g)) {
    const url = m[0].replace(/[.,;:)]+$/, '');
    parts.push(cell(text.slice(last, m.index)));
    const shown = url.replace(/^https?:\/\//, '');
    const short = shown.length > 28 ? `${shown.slice(0, 24).replace(/[/?#&=]+$/, '')}…` : shown;
    parts.push(`[${cell(short)}](${url.replace(/[()\s]/g, c => encodeURIComponent(c))})`);
    last = m.index + url.length;
  }
  parts.push(cell(text.slice(last)));
  return parts
    .join(' ')
    .replace(/ +/g, ' ')
    .replace(/ ([.,;:)])/g, '$1')
    .trim();
}

/** At most `max` characters, cut at a word boundary, never mid-word. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.(-]+$/, '')}…`;
}

/** A count with the noun it counts: `1 VM`, `2 VMs`. */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : many}`;
}

/** `2026-03-02 10:02 UTC`, or `10:02 UTC` on the day of `sameDayAs`. */
export function utcMinute(ms: number, sameDayAs?: number): string {
  const iso = new Date(ms).toISOString();
  const day = sameDayAs !== undefined && new Date(sameDayAs).toISOString().slice(0, 10) === iso.slice(0, 10);
  return `${day ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
}

/** `HH:MM:SS`, with the date in front when asked. */
export function utcSecond(ms: number, withDate = false): string {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(11, 19);
}

/**
 * Appends text while the total stays under a byte limit. Sections take their rows from budgets
 * of their own (`rows`), so that no section can crowd out the ones after it.
 */
export class Writer {
  private parts: string[] = [];
  private used = 0;
  constructor(private readonly limit: number) {}

  get bytes(): number {
    return this.used;
  }

  /** Fixed text (headings, counts, group tables): always written; callers keep it small. */
  must(text: string): void {
    this.parts.push(text);
    this.used += Buffer.byteLength(text);
  }

  /**
   * Writes rows while they fit in `budget` bytes and in the writer's limit less `keep` (room
   * for what must still follow); returns how many did.
   */
  rows<T>(items: readonly T[], render: (item: T) => string, budget: number, keep = 2048): number {
    const room = Math.min(this.used + budget, this.limit - keep);
    let n = 0;
    for (const item of items) {
      const line = render(item);
      const bytes = Buffer.byteLength(line);
      if (this.used + bytes > room) break;
      this.parts.push(line);
      this.used += bytes;
      n++;
    }
    return n;
  }

  text(): string {
    return this.parts.join('');
  }
}
