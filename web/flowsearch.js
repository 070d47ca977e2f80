// FlowSearch live search panel: a DOM widget on every Flow Search node that shows the
// running search (budget, rewards, particles, lineage) and steers it (stop, keep this one).
//
// Server messages and routes: docs/web.md. The logic lives in lib/ (unit-tested with
// node's test runner); this file wires it to ComfyUI's front end.

import { api } from '../../scripts/api.js'
import { app } from '../../scripts/app.js'

import { controlBody, controlErrorText, nodeByExecutionId } from './lib/graph.js'
import { applyMessage, createState, replay } from './lib/state.js'
import { createThrottle } from './lib/throttle.js'
import { createPanelView } from './panel/view.js'

const NODE_TYPES = new Set(['FlowSearch_FlowSearch'])
const MESSAGE_TYPES = ['flowsearch.start', 'flowsearch.progress', 'flowsearch.thumbs', 'flowsearch.done', 'flowsearch.summary']
const RENDER_INTERVAL_MS = 100
const PANEL_MIN_HEIGHT = 260
const PANEL_MAX_HEIGHT = 900
// The front end insets a DOM widget's element by its margin on every side: the element is
// the widget's height minus twice this, so the widget asks for the panel's height plus it.
const PANEL_MARGIN = 10

/** Panel states by execution id (the node id, "a:b" inside subgraphs). */
const states = new Map()
/** Live messages that arrived while a state request was in flight, by execution id. */
let restoring = null

function stateOf(executionId) {
  let state = states.get(executionId)
  if (!state) {
    state = createState()
    states.set(executionId, state)
  }
  return state
}

function panelOf(node) {
  return node?.flowsearchPanel ?? null
}

function redraw(executionId) {
  const node = nodeByExecutionId(app.graph, executionId)
  const panel = panelOf(node)
  if (!panel) return
  panel.executionId = executionId
  panel.throttle.call()
}

function onServerMessage(type, data) {
  if (!data || data.node_id === undefined) return
  const id = String(data.node_id)
  if (restoring) (restoring.get(id) ?? restoring.set(id, []).get(id)).push([type, data])
  applyMessage(stateOf(id), type, data)
  redraw(id)
}

async function postControl(executionId, action, target = {}) {
  const state = stateOf(executionId)
  applyMessage(state, action === 'stop' ? 'local.stop' : 'local.pick', target)
  redraw(executionId)
  try {
    const reply = await api.fetchApi('/flowsearch/control', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(controlBody(state, action, target))
    })
    if (!reply.ok) {
      let body = null
      try {
        body = await reply.json()
      } catch {
        body = null
      }
      applyMessage(state, 'local.control_error', { message: controlErrorText(reply.status, body) })
    }
  } catch (error) {
    applyMessage(state, 'local.control_error', { message: `Could not reach the server: ${error}` })
  }
  redraw(executionId)
}

/** Rebuild panels after a page reload or a reconnect from the server's replay logs. */
async function restore() {
  const clientId = api.clientId ?? api.initialClientId ?? window.name
  if (!clientId) return
  restoring = new Map()
  try {
    const reply = await api.fetchApi(`/flowsearch/state?client_id=${encodeURIComponent(clientId)}`)
    if (!reply.ok) return
    const { searches } = await reply.json()
    for (const search of searches ?? []) {
      const id = String(search.node_id)
      const rebuilt = replay(search.messages ?? [], restoring.get(id) ?? [])
      if (!search.running && rebuilt.status === 'running') {
        applyMessage(rebuilt, 'local.interrupted', { prompt_id: rebuilt.promptId, message: 'The search ended without finishing (interrupted or failed).' })
      }
      const current = states.get(id)
      if (!current || current.promptId === null || current.promptId === rebuilt.promptId || search.running) {
        states.set(id, rebuilt)
        redraw(id)
      }
    }
  } catch (error) {
    console.warn('[FlowSearch] could not restore the live panels:', error)
  } finally {
    restoring = null
  }
}

/** Grow the node when the panel's content needs more room (never shrink it: the user may
 * have sized it). Only measures while the panel is on screen. */
function fitNode(node, panel) {
  const element = panel.view.element
  if (!element.isConnected || !element.offsetWidth) return
  const need = Math.min(PANEL_MAX_HEIGHT, Math.max(PANEL_MIN_HEIGHT, panel.view.naturalHeight()))
  if (!Number.isFinite(need) || need <= panel.minHeight) return
  panel.minHeight = need
  const size = node.computeSize()
  if (size[1] > node.size[1]) {
    node.setSize([node.size[0], size[1]])
    node.setDirtyCanvas?.(true, true)
  }
}

function attachPanel(node) {
  if (node.flowsearchPanel) return
  const panel = { executionId: null, throttle: null, view: null, minHeight: PANEL_MIN_HEIGHT }
  const currentId = () => panel.executionId ?? String(node.id)
  panel.view = createPanelView({
    onStop: () => postControl(currentId(), 'stop'),
    onPick: (batch, population, index) => postControl(currentId(), 'pick', { batch, population, index })
  })
  panel.throttle = createThrottle(() => {
    panel.view.render(stateOf(currentId()))
    fitNode(node, panel)
  }, RENDER_INTERVAL_MS)
  const widget = node.addDOMWidget('flowsearch_live', 'flowsearch-live', panel.view.element, {
    serialize: false,
    hideOnZoom: true,
    margin: PANEL_MARGIN,
    getMinHeight: () => panel.minHeight + 2 * PANEL_MARGIN,
    getValue: () => '',
    setValue: () => {}
  })
  widget.serialize = false
  node.flowsearchPanel = panel
  const size = node.computeSize()
  node.setSize([Math.max(node.size[0], 380), Math.max(node.size[1], size[1])])
  // the node's id is final only once the graph configured it
  queueMicrotask(() => panel.throttle.call())
}

app.registerExtension({
  name: 'FlowSearch.LivePanel',
  async setup() {
    for (const type of MESSAGE_TYPES) {
      api.addEventListener(type, ({ detail }) => onServerMessage(type, detail))
    }
    const interrupted = (message) => ({ detail }) => {
      for (const [id, state] of states) {
        if (detail?.prompt_id && state.promptId === detail.prompt_id) {
          applyMessage(state, 'local.interrupted', { prompt_id: detail.prompt_id, message })
          redraw(id)
        }
      }
    }
    api.addEventListener('execution_interrupted', interrupted('The prompt was interrupted.'))
    api.addEventListener('execution_error', interrupted('The prompt failed (see the error).'))
    api.addEventListener('reconnected', () => restore())
    await restore()
  },
  async nodeCreated(node) {
    if (NODE_TYPES.has(node.comfyClass)) attachPanel(node)
  },
  loadedGraphNode(node) {
    if (NODE_TYPES.has(node.comfyClass)) panelOf(node)?.throttle.call()
  }
})
