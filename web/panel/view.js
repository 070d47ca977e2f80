// The live search panel's DOM: built once per Flow Search node, redrawn from its state.
//
// `createPanelView({onStop, onPick})` returns `{element, render(state)}`. Everything the
// panel shows comes from the reduced state (lib/state.js); this file only draws it.

import { layoutLineage, rewardShade, thumbColumns } from '../lib/lineage.js'
import { sparkGeometry } from '../lib/sparkline.js'
import { isPickable, isSteerable, shownBatch } from '../lib/state.js'
import {
  describeEvents,
  formatDuration,
  formatReward,
  liveRate,
  methodLabel,
  moreNfeCost,
  timingSplit
} from '../lib/format.js'
import { PANEL_CSS, SPLIT_COLOURS } from './css.js'

const SVG_NS = 'http://www.w3.org/2000/svg'
const SPARK_W = 320
const SPARK_H = 64
const LINEAGE_W = 320
const LINEAGE_H = 54
const STATUS_TEXT = {
  idle: 'waiting for a run',
  running: 'searching',
  stopping: 'stopping…',
  picking: 'finishing your pick…',
  done: 'done',
  stopped: 'stopped early',
  interrupted: 'interrupted'
}

/** Add the panel's stylesheet to the page once. */
export function injectStyles(doc = document) {
  if (doc.getElementById('flowsearch-panel-css')) return
  const style = doc.createElement('style')
  style.id = 'flowsearch-panel-css'
  style.textContent = PANEL_CSS
  doc.head.appendChild(style)
}

function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

function svg(className, width, height) {
  const node = document.createElementNS(SVG_NS, 'svg')
  node.setAttribute('class', className)
  node.setAttribute('viewBox', `0 0 ${width} ${height}`)
  node.setAttribute('preserveAspectRatio', 'none')
  return node
}

function stat(className, label) {
  const box = el('div', `fs-stat ${className}`)
  box.append(el('span', 'fs-stat-label', label))
  const value = el('span', 'fs-stat-value', '–')
  box.append(value)
  return { box, value }
}

/** Colour of a lineage dot: dim blue (low reward) to gold (high), by the reward's rank. */
function shadeColour(t) {
  const lo = [70, 90, 150]
  const hi = [245, 197, 66]
  const c = lo.map((v, i) => Math.round(v + (hi[i] - v) * t))
  return `rgb(${c[0]},${c[1]},${c[2]})`
}

export function createPanelView({ onStop, onPick, onBatch }) {
  injectStyles()
  const root = el('div', 'fs-panel')
  root.dataset.status = 'idle'
  const ui = { batch: null, extra: null, promptId: null }

  const head = el('div', 'fs-head')
  const dot = el('span', 'fs-dot')
  const title = el('span', 'fs-title', 'Flow Search')
  const sub = el('span', 'fs-sub', STATUS_TEXT.idle)
  const stop = el('button', 'fs-stop', 'Stop · keep best')
  stop.title = 'Stop spending NFEs now and return the best sample so far'
  stop.disabled = true
  stop.addEventListener('click', (e) => {
    e.stopPropagation()
    onStop()
  })
  head.append(dot, title, sub, stop)

  const tabs = el('div', 'fs-tabs')

  const budget = el('div', 'fs-budget')
  const bar = el('div', 'fs-bar')
  const fill = el('div', 'fs-bar-fill')
  const finish = el('div', 'fs-bar-finish')
  finish.title = 'NFEs spent finishing your pick (outside the budget)'
  bar.append(fill, finish)
  const nfe = el('span', 'fs-nfe', '0')
  budget.append(bar, nfe)

  const stats = el('div', 'fs-stats')
  const best = stat('fs-stat-best', 'best reward')
  const heldOut = stat('fs-stat-heldout', 'held-out')
  const rate = stat('fs-stat-rate', 's / 100 NFE')
  stats.append(best.box, heldOut.box, rate.box)

  const sparkLabel = el('div', 'fs-section-label')
  sparkLabel.append(el('span', '', 'reward vs NFE'), el('span', 'fs-spark-range', ''))
  const spark = svg('fs-spark', SPARK_W, SPARK_H)

  const result = el('div', 'fs-result')
  const resultImg = document.createElement('img')
  resultImg.alt = 'returned sample'
  resultImg.draggable = false
  const resultText = el('div', 'fs-result-text')
  result.append(resultImg, resultText)

  const thumbsLabel = el('div', 'fs-section-label')
  const thumbsCaption = el('span', '', 'particles')
  thumbsLabel.append(thumbsCaption, el('span', 'fs-thumbs-hint', ''))
  const thumbs = el('div', 'fs-thumbs')
  thumbs.dataset.empty = 'particles appear after the first step'
  const lineageLabel = el('div', 'fs-section-label')
  lineageLabel.append(el('span', '', 'lineage'), el('span', '', 'gold: ancestry of the best'))
  const lineage = svg('fs-lineage', LINEAGE_W, LINEAGE_H)

  const events = el('div', 'fs-events')

  const summary = el('div', 'fs-summary')
  const split = el('div', 'fs-split')
  const legend = el('div', 'fs-legend')
  const cost = el('div', 'fs-cost')
  const extra = document.createElement('input')
  extra.type = 'number'
  extra.min = '0'
  extra.step = '50'
  extra.title = 'NFEs to add to the budget'
  const costText = el('span', 'fs-cost-text', '')
  extra.addEventListener('input', () => {
    ui.extra = extra.value
    drawCost()
  })
  // keep typing in the field from reaching the canvas' shortcuts
  for (const type of ['keydown', 'pointerdown', 'wheel']) extra.addEventListener(type, (e) => e.stopPropagation())
  cost.append(el('span', '', 'Cost of'), extra, costText)
  summary.append(split, legend, cost)

  const notice = el('div', 'fs-notice')

  root.append(head, tabs, budget, stats, sparkLabel, spark, result, thumbsLabel, thumbs, lineageLabel, lineage, events, summary, notice)

  let lastState = null
  let secPer100 = null

  function drawCost() {
    const { seconds } = moreNfeCost(secPer100, ui.extra ?? extra.value)
    costText.innerHTML = ''
    costText.append('more NFE: ≈ ', el('b', '', formatDuration(seconds)), ' on this machine')
  }

  function drawTabs(state) {
    const count = state.batchSize
    if (count <= 1) {
      tabs.replaceChildren()
      return
    }
    const shown = shownBatch(state, ui.batch)?.batch ?? 0
    const buttons = []
    for (let b = 0; b < count; b++) {
      const tab = el('button', 'fs-tab', `item ${b + 1}`)
      tab.setAttribute('aria-pressed', String(b === shown))
      tab.addEventListener('click', (e) => {
        e.stopPropagation()
        ui.batch = b
        onBatch?.(b)
        if (lastState) render(lastState)
      })
      buttons.push(tab)
    }
    tabs.replaceChildren(...buttons)
  }

  function drawSpark(batch) {
    const g = sparkGeometry(batch.best, batch.populations, SPARK_W, SPARK_H, { nfeMax: batch.nfeBudget })
    const parts = []
    for (const d of g.dots) parts.push(`<circle class="fs-pop" cx="${d.x}" cy="${d.y}" r="1.7"/>`)
    if (g.bestPath) parts.push(`<path class="fs-best-line" d="${g.bestPath}" vector-effect="non-scaling-stroke"/>`)
    if (g.last) parts.push(`<circle class="fs-best-end" cx="${g.last.x}" cy="${g.last.y}" r="2.6"/>`)
    spark.innerHTML = parts.join('')
    sparkLabel.lastChild.textContent = g.seen ? `${formatReward(g.seen[0])} … ${formatReward(g.seen[1])}` : ''
  }

  function drawThumbs(state, batch) {
    const t = batch.thumbs
    const steerable = isPickable(state, batch)
    if (!t || !t.images.length) {
      thumbs.replaceChildren()
      thumbsCaption.textContent = 'particles'
      thumbsLabel.lastChild.textContent = ''
      return
    }
    thumbsCaption.textContent = t.final
      ? `final candidates (${t.images.length})`
      : `population ${t.population ?? ''} · step ${t.step === null ? '' : t.step + 1}`
    thumbsLabel.lastChild.textContent = steerable ? 'click one to keep it' : ''
    const pickedHere = !!batch.picked && batch.picked.population === t.population && !t.final
    if (pickedHere) thumbsCaption.textContent += ' · your pick'
    thumbs.style.setProperty('--fs-cols', String(thumbColumns(t.images.length)))
    const children = Array.from(thumbs.children)
    while (children.length > t.images.length) children.pop().remove()
    t.images.forEach((src, k) => {
      let cell = children[k]
      if (!cell) {
        cell = el('button', 'fs-thumb')
        cell.type = 'button'
        const img = document.createElement('img')
        img.alt = ''
        img.draggable = false
        cell.append(img, el('span', 'fs-thumb-reward'), el('span', 'fs-thumb-keep', 'keep this'))
        cell.addEventListener('click', (e) => {
          e.stopPropagation()
          if (cell.dataset.steerable !== 'true') return
          onPick(Number(cell.dataset.batch), Number(cell.dataset.population), Number(cell.dataset.index))
        })
        thumbs.append(cell)
      }
      const index = t.indices[k] ?? k
      const img = cell.firstChild
      if (img.getAttribute('src') !== src) img.setAttribute('src', src)
      cell.dataset.index = String(index)
      cell.dataset.population = String(t.population ?? '')
      cell.dataset.batch = String(batch.batch)
      cell.dataset.steerable = String(steerable && !t.final)
      const reward = t.rewards[k]
      cell.children[1].textContent = reward === null || reward === undefined ? `#${index}` : formatReward(reward)
      cell.classList.toggle('fs-winner', !pickedHere && index === t.bestIndex)
      cell.classList.toggle('fs-picked', pickedHere && index === batch.picked.index)
      cell.dataset.reward = reward === null || reward === undefined ? '' : String(reward)
      const rewardText = reward === null || reward === undefined ? '' : ` · reward ${formatReward(reward)}`
      cell.title = steerable && !t.final
        ? `Keep particle #${index}${rewardText}: stop searching and finish this one alone`
        : `particle #${index}${rewardText}`
    })
  }

  function drawResult(batch) {
    const r = batch.result
    result.classList.toggle('fs-show', !!r)
    if (!r) return
    if (r.image && resultImg.getAttribute('src') !== r.image) resultImg.setAttribute('src', r.image)
    resultImg.style.display = r.image ? 'block' : 'none'
    const how = batch.picked
      ? `picked by hand: particle #${batch.picked.index} of population ${batch.picked.population}, finished alone`
      : batch.stopped
        ? 'stopped early: the best sample so far'
        : 'the best sample of the search'
    resultText.replaceChildren(
      el('div', 'fs-result-title', batch.picked ? 'Returned · your pick' : '★ Returned'),
      el('div', 'fs-result-reward', `reward ${formatReward(r.reward)}`),
      el('div', 'fs-result-how', how)
    )
    result.classList.toggle('fs-picked', !!batch.picked)
  }

  function drawLineage(batch) {
    const { dots, edges, rewardRange } = layoutLineage(batch.columns, LINEAGE_W, LINEAGE_H)
    const parts = []
    for (const e of edges) {
      if (!e.onPath) parts.push(`<line class="fs-edge" x1="${e.x1}" y1="${e.y1}" x2="${e.x2}" y2="${e.y2}" vector-effect="non-scaling-stroke"/>`)
    }
    for (const e of edges) {
      if (e.onPath) parts.push(`<line class="fs-edge fs-on" x1="${e.x1}" y1="${e.y1}" x2="${e.x2}" y2="${e.y2}" vector-effect="non-scaling-stroke"/>`)
    }
    for (const d of dots) {
      const colour = shadeColour(rewardShade(d.reward, rewardRange))
      const r = d.winner ? 3.4 : d.onPath ? 2.6 : 2
      parts.push(`<circle class="fs-node${d.onPath ? ' fs-on' : ''}" cx="${d.x}" cy="${d.y}" r="${r}" fill="${colour}"/>`)
    }
    lineage.innerHTML = parts.join('')
    const shown = batch.columns.length > 1
    lineage.style.display = shown ? 'block' : 'none'
    lineageLabel.style.display = shown ? 'flex' : 'none'
  }

  function drawSummary(state, batch) {
    const s = state.summary
    secPer100 = s?.secPer100Nfe ?? liveRate(batch)
    const finished = ['done', 'stopped'].includes(state.status)
    summary.classList.toggle('fs-show', finished && (s !== null || secPer100 !== null))
    const parts = timingSplit(s?.timings)
    split.replaceChildren(
      ...parts.map((p) => {
        const seg = el('span')
        seg.style.width = `${(100 * p.share).toFixed(1)}%`
        seg.style.background = SPLIT_COLOURS[p.name]
        seg.title = `${p.name}: ${formatDuration(p.seconds)}`
        return seg
      })
    )
    split.style.display = parts.length ? 'flex' : 'none'
    legend.replaceChildren(
      ...parts.map((p) => {
        const item = el('span')
        const swatch = el('i')
        swatch.style.background = SPLIT_COLOURS[p.name]
        item.append(swatch, `${p.name} ${Math.round(100 * p.share)}%`)
        return item
      })
    )
    if (ui.extra === null && batch.nfeBudget) extra.value = String(batch.nfeBudget)
    drawCost()
  }

  function render(state) {
    lastState = state
    if (state.promptId !== ui.promptId) {
      ui.promptId = state.promptId
      ui.batch = null // a new run: follow its running batch item again
    }
    root.dataset.status = state.status
    root.dataset.steerable = String(isSteerable(state))
    const batch = shownBatch(state, ui.batch)
    sub.textContent = STATUS_TEXT[state.status] ?? state.status
    stop.disabled = !isSteerable(state)
    drawTabs(state)
    if (!batch) {
      title.textContent = 'Flow Search'
      nfe.innerHTML = '<small>no run yet</small>'
      fill.style.width = '0%'
      finish.style.width = '0%'
      for (const s of [best, heldOut, rate]) s.value.textContent = '–'
      spark.innerHTML = ''
      thumbs.replaceChildren()
      result.classList.remove('fs-show')
      lineage.style.display = 'none'
      lineageLabel.style.display = 'none'
      events.textContent = ''
      summary.classList.remove('fs-show')
      drawNotice(state)
      return
    }
    title.textContent = methodLabel(batch.method)
    // the core counts steps from 0: step k is the (k+1)-th of `steps`
    const stepText = batch.steps ? `step ${Math.min(batch.step + 1, batch.steps)}/${batch.steps}` : ''
    sub.textContent = [STATUS_TEXT[state.status] ?? state.status, stepText].filter(Boolean).join(' · ')
    drawBudget(batch)
    best.value.textContent = formatReward(batch.bestReward)
    heldOut.value.textContent = formatReward(batch.heldOut)
    heldOut.box.style.opacity = batch.heldOut === null ? '0.45' : '1'
    const r = state.summary?.secPer100Nfe ?? liveRate(batch)
    rate.value.textContent = r === null ? '–' : formatDuration(r).replace(/ s$/, ' s')
    drawSpark(batch)
    drawResult(batch)
    drawThumbs(state, batch)
    drawLineage(batch)
    events.textContent = describeEvents(batch.events)
    drawSummary(state, batch)
    drawNotice(state)
  }

  /** "64 / 80 NFE", and "+ 6 to finish the pick" once a picked particle was finished
   * (those NFEs are outside the budget: the report's nfe_finish). */
  function drawBudget(batch) {
    const budgetN = batch.nfeBudget ?? 0
    const share = (n) => (budgetN ? Math.min(100, (100 * n) / budgetN) : 0)
    const used = share(batch.nfeUsed)
    fill.style.width = `${used.toFixed(1)}%`
    const extra = batch.picked ? batch.nfeFinish : 0
    finish.style.left = `${used.toFixed(1)}%`
    finish.style.width = `${Math.min(100 - used, share(extra)).toFixed(1)}%`
    nfe.dataset.nfeUsed = String(batch.nfeUsed)
    nfe.dataset.nfeFinish = String(extra)
    nfe.replaceChildren(String(batch.nfeUsed), el('small', '', ` / ${budgetN || '?'} NFE`))
    if (extra > 0) nfe.append(el('small', 'fs-nfe-finish', ` + ${extra} to finish the pick`))
    nfe.title = extra > 0
      ? `${batch.nfeUsed} NFE of the ${budgetN} budget searched; ${extra} more finished your pick`
      : `${batch.nfeUsed} of ${budgetN} NFE spent`
  }

  function drawNotice(state) {
    notice.textContent = state.notice?.text ?? ''
    notice.dataset.level = state.notice?.level ?? ''
  }

  /** The height the panel's content needs at its current width (pixels). */
  function naturalHeight() {
    const styles = getComputedStyle(root)
    const gap = parseFloat(styles.rowGap) || 0
    const pad = (parseFloat(styles.paddingTop) || 0) + (parseFloat(styles.paddingBottom) || 0) + 2
    const shown = Array.from(root.children).filter((c) => c.offsetParent !== null || c.getClientRects().length)
    // offsetHeight ignores the canvas zoom (a CSS transform); SVG elements have none
    const height = (c) => (c instanceof SVGElement ? c.clientHeight : c.offsetHeight) || 0
    return Math.ceil(pad + shown.reduce((h, c) => h + height(c), 0) + gap * Math.max(0, shown.length - 1))
  }

  return { element: root, render, ui, naturalHeight }
}
