/// <reference lib="dom" />
import { html } from 'htm/preact';
import { usd } from './format.js';

export interface DayBar {
  day: string;
  value: number;
}

const WIDTH = 240;
const HEIGHT = 64;
const GAP = 4;
const OFF_SCALE = 5;

/**
 * Spend per day as bars, with the daily budget as a dashed line (a bar over it is red). Inline
 * SVG: no chart library in the bundle.
 */
export function SpendChart({ bars, budget }: { bars: DayBar[]; budget: number | undefined }) {
  const most = Math.max(0, ...bars.map((bar) => bar.value));
  // A budget far above the spend would flatten every bar: then the scale follows the spend and
  // the budget is written, not drawn.
  const line = budget !== undefined && (most === 0 || budget <= most * OFF_SCALE) ? budget : undefined;
  const top = Math.max(line ?? 0, most) || 1;
  const width = (WIDTH - GAP * (bars.length - 1)) / Math.max(1, bars.length);
  const y = (value: number) => HEIGHT - (value / top) * (HEIGHT - 2);
  return html`<svg class="chart" viewBox=${`0 0 ${WIDTH} ${HEIGHT + 14}`} width=${WIDTH} height=${HEIGHT + 14} role="img">
    ${bars.map((bar, index) => {
      const x = index * (width + GAP);
      const over = budget !== undefined && bar.value > budget;
      return html`<g>
        <rect x=${x} y=${y(bar.value)} width=${width} height=${HEIGHT - y(bar.value)} class=${over ? 'bar over' : 'bar'}>
          <title>${bar.day}: ${usd(bar.value)}</title>
        </rect>
        <text x=${x + width / 2} y=${HEIGHT + 11} text-anchor="middle">${bar.day.slice(8)}</text>
      </g>`;
    })}
    ${budget !== undefined && line === undefined && html`<text x="0" y="8">budget ${usd(budget)} (off the scale)</text>`}
    ${line !== undefined && html`<line x1="0" x2=${WIDTH} y1=${y(line)} y2=${y(line)} class="budget-line"><title>budget ${usd(line)} a day</title></line>`}
  </svg>`;
}
