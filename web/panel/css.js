// Styles of the live search panel, injected once into the page. Colours follow ComfyUI's
// theme variables where it has them (dark and light palettes), with dark fallbacks.

export const PANEL_CSS = `
.fs-panel {
  --fs-fg: var(--input-text, #e4e4e7);
  --fs-muted: var(--descrip-text, #9aa0aa);
  --fs-bg: var(--comfy-input-bg, #1c1c1f);
  --fs-line: var(--border-color, #3a3a40);
  --fs-accent: #4f9dff;
  --fs-best: #f5c542;
  --fs-good: #34d399;
  --fs-warn: #f59e0b;
  --fs-bad: #f87171;
  box-sizing: border-box;
  display: flex;
  flex-direction: column;
  gap: 7px;
  width: 100%;
  height: 100%;
  padding: 8px 9px;
  overflow: hidden;
  color: var(--fs-fg);
  background: var(--fs-bg);
  border: 1px solid var(--fs-line);
  border-radius: 8px;
  font: 11px/1.35 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-variant-numeric: tabular-nums;
  user-select: none;
}
.fs-panel * { box-sizing: border-box; }
.fs-panel > * { flex-shrink: 0; }
.fs-head { display: flex; align-items: center; gap: 7px; min-height: 22px; }
.fs-dot { width: 8px; height: 8px; border-radius: 50%; background: var(--fs-muted); flex: none; }
.fs-panel[data-status="running"] .fs-dot { background: var(--fs-good); box-shadow: 0 0 0 3px rgba(52, 211, 153, .18); animation: fs-pulse 1.4s ease-in-out infinite; }
.fs-panel[data-status="stopping"] .fs-dot, .fs-panel[data-status="picking"] .fs-dot, .fs-panel[data-status="stopped"] .fs-dot { background: var(--fs-warn); }
.fs-panel[data-status="done"] .fs-dot { background: var(--fs-accent); }
.fs-panel[data-status="interrupted"] .fs-dot { background: var(--fs-bad); }
@keyframes fs-pulse { 50% { box-shadow: 0 0 0 5px rgba(52, 211, 153, .05); } }
.fs-title { font-weight: 600; font-size: 12px; white-space: nowrap; }
.fs-sub { color: var(--fs-muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; flex: 1; min-width: 0; }
.fs-stop {
  flex: none; cursor: pointer; font: inherit; font-weight: 600; color: var(--fs-fg);
  background: rgba(248, 113, 113, .12); border: 1px solid rgba(248, 113, 113, .55);
  border-radius: 5px; padding: 2px 8px;
}
.fs-stop:hover:not(:disabled) { background: rgba(248, 113, 113, .28); }
.fs-stop:disabled { opacity: .35; cursor: default; }
.fs-tabs { display: flex; gap: 4px; }
.fs-tabs:empty { display: none; }
.fs-tab { cursor: pointer; font: inherit; color: var(--fs-muted); background: transparent; border: 1px solid var(--fs-line); border-radius: 10px; padding: 0 7px; }
.fs-tab[aria-pressed="true"] { color: var(--fs-fg); border-color: var(--fs-accent); background: rgba(79, 157, 255, .15); }
.fs-budget { display: flex; align-items: center; gap: 8px; }
.fs-bar { position: relative; flex: 1; height: 8px; border-radius: 4px; background: rgba(255, 255, 255, .07); overflow: hidden; }
.fs-bar-fill { position: absolute; inset: 0 auto 0 0; width: 0; border-radius: 4px; background: linear-gradient(90deg, #3b82f6, #22c1a3); transition: width .15s linear; }
.fs-bar-finish { position: absolute; top: 0; bottom: 0; width: 0; border-radius: 0 4px 4px 0; background: repeating-linear-gradient(135deg, var(--fs-accent) 0 3px, rgba(79, 157, 255, .45) 3px 6px); }
.fs-nfe { white-space: nowrap; font-weight: 600; }
.fs-nfe small { color: var(--fs-muted); font-weight: 400; }
.fs-nfe small.fs-nfe-finish { color: var(--fs-accent); }
.fs-stats { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 5px; }
.fs-stat { background: rgba(255, 255, 255, .04); border: 1px solid rgba(255, 255, 255, .05); border-radius: 6px; padding: 3px 6px; min-width: 0; }
.fs-stat-label { display: block; color: var(--fs-muted); font-size: 9px; letter-spacing: .06em; text-transform: uppercase; }
.fs-stat-value { display: block; font-size: 13px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.fs-stat-best .fs-stat-value { color: var(--fs-best); }
.fs-section-label { color: var(--fs-muted); font-size: 9px; letter-spacing: .06em; text-transform: uppercase; display: flex; justify-content: space-between; }
.fs-spark { width: 100%; height: 64px; display: block; background: rgba(255, 255, 255, .025); border-radius: 5px; }
.fs-spark .fs-pop { fill: rgba(125, 160, 255, .42); }
.fs-spark .fs-best-line { fill: none; stroke: var(--fs-best); stroke-width: 1.6; stroke-linejoin: round; }
.fs-spark .fs-best-end { fill: var(--fs-best); }
.fs-spark .fs-axis { fill: var(--fs-muted); font-size: 8px; }
.fs-thumbs { display: grid; grid-template-columns: repeat(var(--fs-cols, 8), minmax(0, 1fr)); gap: 4px; }
.fs-thumbs:empty::before { content: attr(data-empty); color: var(--fs-muted); grid-column: 1 / -1; padding: 6px 0; text-align: center; }
.fs-thumb { position: relative; aspect-ratio: 1; border-radius: 5px; overflow: hidden; border: 2px solid transparent; background: #000; padding: 0; cursor: default; }
.fs-thumb img { width: 100%; height: 100%; object-fit: cover; display: block; image-rendering: auto; }
.fs-thumb-reward { position: absolute; left: 0; right: 0; bottom: 0; padding: 1px 3px; font-size: 9px; line-height: 1.2; color: #fff; background: linear-gradient(transparent, rgba(0, 0, 0, .75)); text-align: left; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.fs-thumb-keep { position: absolute; inset: 0; display: none; align-items: center; justify-content: center; font-weight: 700; font-size: 10px; color: #fff; background: rgba(79, 157, 255, .55); }
.fs-panel[data-steerable="true"] .fs-thumb { cursor: pointer; }
.fs-panel[data-steerable="true"] .fs-thumb:hover { border-color: var(--fs-accent); }
.fs-panel[data-steerable="true"] .fs-thumb:hover .fs-thumb-keep { display: flex; }
.fs-thumb.fs-winner { border-color: var(--fs-best); box-shadow: 0 0 0 1px rgba(245, 197, 66, .5), 0 0 8px rgba(245, 197, 66, .45); }
.fs-thumb.fs-winner::after { content: "★"; position: absolute; top: 1px; right: 3px; color: var(--fs-best); font-size: 11px; text-shadow: 0 0 3px #000; }
.fs-thumb.fs-picked { border-color: var(--fs-accent); }
.fs-thumb.fs-picked::after { content: "PICK"; position: absolute; top: 2px; right: 2px; padding: 0 3px; border-radius: 3px; font-size: 8px; font-weight: 700; color: #fff; background: var(--fs-accent); }
.fs-result { display: none; align-items: center; gap: 9px; padding: 5px; border-radius: 7px; background: linear-gradient(90deg, rgba(245, 197, 66, .12), rgba(245, 197, 66, 0)); border: 1px solid rgba(245, 197, 66, .35); }
.fs-result.fs-show { display: flex; }
.fs-result img { width: 64px; height: 64px; object-fit: cover; border-radius: 5px; border: 2px solid var(--fs-best); flex: none; background: #000; }
.fs-result.fs-picked { background: linear-gradient(90deg, rgba(79, 157, 255, .14), rgba(79, 157, 255, 0)); border-color: rgba(79, 157, 255, .45); }
.fs-result.fs-picked img { border-color: var(--fs-accent); }
.fs-result-text { display: flex; flex-direction: column; gap: 1px; min-width: 0; }
.fs-result-title { font-weight: 700; font-size: 12px; color: var(--fs-best); }
.fs-result.fs-picked .fs-result-title { color: var(--fs-accent); }
.fs-result-reward { font-weight: 600; }
.fs-result-how { color: var(--fs-muted); font-size: 10.5px; }
.fs-lineage { width: 100%; height: 54px; display: block; background: rgba(255, 255, 255, .025); border-radius: 5px; }
.fs-lineage .fs-edge { stroke: rgba(255, 255, 255, .16); stroke-width: 1; }
.fs-lineage .fs-edge.fs-on { stroke: var(--fs-best); stroke-width: 1.8; }
.fs-lineage .fs-node.fs-on { stroke: var(--fs-best); stroke-width: 1.2; }
.fs-events { color: var(--fs-muted); min-height: 14px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.fs-summary { display: none; flex-direction: column; gap: 4px; border-top: 1px solid var(--fs-line); padding-top: 6px; }
.fs-summary.fs-show { display: flex; }
.fs-split { display: flex; height: 7px; border-radius: 4px; overflow: hidden; background: rgba(255, 255, 255, .07); }
.fs-split span { display: block; height: 100%; }
.fs-legend { display: flex; flex-wrap: wrap; gap: 2px 9px; color: var(--fs-muted); }
.fs-legend i { display: inline-block; width: 7px; height: 7px; border-radius: 2px; margin-right: 3px; vertical-align: -0.5px; }
.fs-cost { display: flex; align-items: center; gap: 5px; flex-wrap: wrap; }
.fs-cost input { width: 58px; font: inherit; color: var(--fs-fg); background: rgba(255, 255, 255, .06); border: 1px solid var(--fs-line); border-radius: 4px; padding: 1px 4px; }
.fs-cost b { color: var(--fs-fg); }
.fs-notice { min-height: 0; font-size: 10.5px; }
.fs-notice:empty { display: none; }
.fs-notice[data-level="error"] { color: var(--fs-bad); }
.fs-notice[data-level="info"] { color: var(--fs-accent); }
`

export const SPLIT_COLOURS = {
  model: '#3b82f6',
  decode: '#a855f7',
  verifier: '#22c1a3',
  overhead: '#6b7280'
}
