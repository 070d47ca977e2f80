import assert from 'node:assert/strict'
import { test } from 'node:test'

import { controlBody, controlErrorText, nodeByExecutionId } from '../lib/graph.js'

function graph(nodes) {
  return { getNodeById: (id) => nodes[String(id)] ?? null }
}

test('execution ids resolve through subgraphs', () => {
  const inner = { id: 5, title: 'inner' }
  const root = graph({ 3: { id: 3 }, 12: { id: 12, subgraph: graph({ 5: inner }) } })
  assert.equal(nodeByExecutionId(root, '3').id, 3)
  assert.equal(nodeByExecutionId(root, '12:5'), inner)
  assert.equal(nodeByExecutionId(root, '3:5'), null) // 3 is not a subgraph node
  assert.equal(nodeByExecutionId(root, '99'), null)
  assert.equal(nodeByExecutionId(null, '3'), null)
})

test('control request bodies', () => {
  const state = { promptId: 'p', nodeId: '7' }
  assert.deepEqual(controlBody(state, 'stop'), { prompt_id: 'p', node_id: '7', action: 'stop' })
  assert.deepEqual(controlBody(state, 'pick', { batch: 1, population: 4, index: 2 }), {
    prompt_id: 'p', node_id: '7', action: 'pick', batch: 1, population: 4, index: 2
  })
})

test('control errors prefer the server message', () => {
  assert.equal(controlErrorText(409, { error: 'search 7 finished' }), 'search 7 finished')
  assert.match(controlErrorText(404, null), /not running/)
  assert.match(controlErrorText(500, {}), /HTTP 500/)
})
