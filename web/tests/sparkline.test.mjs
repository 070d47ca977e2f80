import assert from 'node:assert/strict'
import { test } from 'node:test'

import { finiteRange, sparkGeometry } from '../lib/sparkline.js'

test('finiteRange skips nulls and non-finite numbers', () => {
  assert.deepEqual(finiteRange([3, null, -1, NaN, Infinity, 2]), [-1, 3])
  assert.equal(finiteRange([null]), null)
})

test('the best curve is a step function across the budget', () => {
  const g = sparkGeometry([[0, 0], [50, 1]], [], 106, 106, { nfeMax: 100, pad: 3 })
  // y range [0, 1] padded by 8%: 0 -> 3 + 100 * 0.08 / 1.16, 1 -> top minus the same
  assert.equal(g.xMax, 100)
  assert.match(g.bestPath, /^M3 [\d.]+H53V[\d.]+$/)
  const [, y0] = g.bestPath.match(/^M3 ([\d.]+)/)
  const [, y1] = g.bestPath.match(/V([\d.]+)$/)
  assert.ok(Number(y0) > Number(y1), 'a higher reward is drawn higher')
  assert.deepEqual(g.last, { x: 53, y: Number(y1) })
})

test('population dots: one per finite reward, inside the box', () => {
  const g = sparkGeometry([[10, 2]], [{ nfe: 10, rewards: [1, 2, null] }, { nfe: 20, rewards: [0.5] }], 200, 50)
  assert.equal(g.dots.length, 3)
  for (const d of g.dots) {
    assert.ok(d.x >= 0 && d.x <= 200)
    assert.ok(d.y >= 0 && d.y <= 50)
  }
  assert.equal(g.xMax, 20) // no budget given: the largest NFE seen
})

test('a flat reward range is widened, an empty one gives no geometry', () => {
  const flat = sparkGeometry([[1, 5], [2, 5]], [], 100, 40)
  assert.deepEqual(flat.yRange, [4.5, 5.5])
  assert.deepEqual(flat.seen, [5, 5]) // what the panel prints: the rewards' own range
  const empty = sparkGeometry([[1, null]], [], 100, 40)
  assert.equal(empty.bestPath, '')
  assert.equal(empty.yRange, null)
})

test('the axis is padded, the printed range is the rewards\' own', () => {
  const g = sparkGeometry([[4, -0.2], [8, -0.1]], [{ nfe: 4, rewards: [-0.3, -0.2] }], 100, 40)
  assert.deepEqual(g.seen, [-0.3, -0.1])
  assert.ok(g.yRange[0] < -0.3 && g.yRange[1] > -0.1)
})
